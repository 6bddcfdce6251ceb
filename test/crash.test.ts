import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freshBackendEnv, listStoredBlobs } from './helpers/backends.ts';
import { ApiClient } from './helpers/clients.ts';
import { ffprobe, fixtures } from './helpers/audio.ts';
import { waitFor } from './helpers/server.ts';
import { fileEnded, fileWhen } from './helpers/files.ts';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

/** The real CLI, as `npm start` runs it, in its own process. */
function startCli(dataDir: string, port: number, backendEnv: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    env: { ...process.env, ...backendEnv, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

const exited = (child: ChildProcess) => new Promise((resolve) => child.once('exit', resolve));

describe('durability', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('finishes a job after the server is SIGKILLed mid-transcode, with no duplicates', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'reprise-crash-'));
    dirs.push(dataDir);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const backendEnv = await freshBackendEnv();
    const first = startCli(dataDir, port, backendEnv);
    children.push(first);
    await waitFor('server up', () => fetch(`${base}/healthz`).then((r) => (r.ok ? true : undefined), () => undefined), 30_000);

    const api = await ApiClient.signUp(base, 'kim');
    const up = await api.upload(await fixtures.long(), { name: 'Crash test' });
    assert.equal(up.status, 201);
    await fileWhen(api, up.body.id, (f) => f.status === 'running' && f.progress >= 5, 'progress', 60_000);

    first.kill('SIGKILL');
    await exited(first);

    const second = startCli(dataDir, port, backendEnv);
    children.push(second);
    await waitFor('server up again', () => fetch(`${base}/healthz`).then((r) => (r.ok ? true : undefined), () => undefined), 30_000);
    const done = await fileEnded(api, up.body.id, 120_000);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.deepEqual(done.outputs.map((o) => o.preset), ['wav-44k-16', 'flac-cd', 'aac-256k']);

    for (const output of done.outputs) {
      const res = await api.request('GET', `/files/${up.body.id}/outputs/${output.preset}`);
      const file = path.join(dataDir, `check.${output.preset}`);
      await writeFile(file, Buffer.from(await res.arrayBuffer()));
      const probe = await ffprobe(file);
      assert.ok(Math.abs(probe.durationMs - 420_000) < 500, `${output.preset}: ${probe.durationMs} ms, whole`);
      await rm(file);
    }
    const notes = (await api.json<{ notifications: { fileId: string }[] }>('GET', '/notifications')).body.notifications;
    assert.equal(notes.filter((n) => n.fileId === up.body.id).length, 1, 'exactly one notification');

    const objects = (await listStoredBlobs(backendEnv, dataDir)).filter((o) => o.includes(up.body.id));
    assert.equal(objects.filter((o) => /\.(wav|flac|m4a)$/.test(o)).length, 3, `three outputs, no strays: ${objects.join(', ')}`);
    assert.deepEqual(await readdir(path.join(dataDir, 'tmp')), [], 'no scratch left');

    second.kill('SIGTERM');
    assert.equal(await exited(second), 0, 'clean shutdown on SIGTERM');
  });
});
