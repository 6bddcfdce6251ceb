import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixtures } from './helpers/audio.ts';
import { freshBackendEnv, listStoredBlobs } from './helpers/backends.ts';
import { ApiClient } from './helpers/clients.ts';
import { waitFor } from './helpers/server.ts';
import { freePort } from './support/services.ts';

interface LogLine { level: number; msg?: string; res?: { statusCode?: number }; err?: { message?: string } }

/**
 * A client that goes away in the middle of an upload is not the server's failure: it is logged at
 * info as an interrupted upload (never an error, never a 503 "storage failed"), its partial bytes
 * are removed, and the server goes on serving. Run as a real process so its real log is read.
 */
describe('an upload the client abandons half-way', () => {
  let child: ChildProcess;
  let base = '';
  let dataDir = '';
  let env: Record<string, string> = {};
  const lines: LogLine[] = [];

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'reprise-abort-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ['bin/reprise.js', 'serve'], {
      env: { ...process.env, ...(env = await freshBackendEnv()), DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', WORKER_CONCURRENCY: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let pending = '';
    child.stdout?.on('data', (d: Buffer) => {
      pending += d.toString('utf8');
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const l of complete) if (l.startsWith('{')) lines.push(JSON.parse(l) as LogLine);
    });
    await waitFor('server up', () => fetch(`${base}/healthz`).then((r) => (r.ok ? true : undefined), () => undefined), 30_000);
  });
  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is logged as interrupted, keeps nothing, and the server stays up', async () => {
    const api = await ApiClient.signUp(base, 'leaver');
    const audio = await readFile(await fixtures.longWav());
    const boundary = 'xxBOUNDARYxx';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="long.wav"\r\nContent-Type: audio/wav\r\n\r\n`;
    const tail = `\r\n--${boundary}--\r\n`;
    const length = Buffer.byteLength(head) + audio.length + Buffer.byteLength(tail);
    const { port } = new URL(base);
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write(
      `POST /api/v1/files HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${api.token}\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${length}\r\n\r\n${head}`,
    );
    socket.write(audio.subarray(0, 3 * 1024 * 1024));
    // Let the server store some of it, then vanish mid-body.
    if (env.S3_BUCKET) await new Promise((resolve) => setTimeout(resolve, 1000));
    else {
      await waitFor('part of the upload stored', async () => {
        const incoming = await readdir(path.join(dataDir, 'blobs'), { recursive: true }).catch(() => []);
        return incoming.length > 0 ? true : undefined;
      }, 10_000);
    }
    socket.destroy();

    const said = await waitFor('the interruption logged', async () => lines.find((l) => l.msg?.includes('upload ended before its body did')), 15_000);
    assert.equal(said.level, 30, 'logged at info');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const errors = lines.filter((l) => l.level >= 50);
    assert.deepEqual(errors, [], 'nothing logged as an error');
    assert.ok(!lines.some((l) => l.res?.statusCode === 503 || l.res?.statusCode === 500), 'no 5xx recorded for it');

    const kept = await waitFor('partial bytes removed', async () => {
      const left = await listStoredBlobs(env, dataDir);
      return left.length === 0 ? left : undefined;
    }, 10_000);
    assert.deepEqual(kept, []);
    const files = await api.json<{ files: unknown[] }>('GET', '/files');
    assert.deepEqual(files.body.files, [], 'no file row was made');
  });
});
