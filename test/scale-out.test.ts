import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ApiClient, type FileJson } from './helpers/clients.ts';
import { ffprobe, fixtures } from './helpers/audio.ts';
import { backend, freshBackendEnv, listStoredBlobs } from './helpers/backends.ts';
import { runOnHost, TestNetwork, type HostProcess } from './helpers/hosts.ts';
import { waitFor } from './helpers/server.ts';
import { freePort, startPostgres, startS3, type Postgres, type S3Server } from './support/services.ts';
import { fileWhen } from './helpers/files.ts';

const run = promisify(execFile);
const repo = process.cwd();

/** A web process as docs/deploy.md starts it: `WORKER_CONCURRENCY=0 PORT=… npm start`. */
function startWeb(env: Record<string, string>, port: number): { child: ChildProcess; url: string } {
  const child = spawn('npm', ['start'], {
    env: { ...process.env, ...env, WORKER_CONCURRENCY: '0', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

const stopGroup = (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') => {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    /* gone */
  }
};

const fileOf = (api: ApiClient, id: string) => api.json<FileJson>('GET', `/files/${id}`).then((r) => r.body);
/** Exits non-zero with one line on stderr: what start-up says about a bad setting. */
async function startupLine(env: Record<string, string>): Promise<{ code: number; lines: string[] }> {
  try {
    await run(process.execPath, ['bin/reprise.js', 'migrate'], { env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, lines: [] };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, lines: e.stderr.trim().split('\n') };
  }
}

describe('scale-out: web and workers on separate hosts, sharing PostgreSQL and S3', { concurrency: false }, async () => {
  const skip = backend.pgAdminUrl ? 'runs once, in the embedded pass (it brings its own servers)' : await TestNetwork.available();
  const net = new TestNetwork();
  let pg: Postgres;
  let s3: S3Server;
  let env: Record<string, string> = {};
  const webs: ChildProcess[] = [];
  const workers = new Map<string, HostProcess>();
  let web = '';
  let api: ApiClient;
  let dataDir = '';

  const startWorker = async (n: number) => {
    const { ns } = await net.addHost(n);
    // The worker reaches the database and the bucket through the bridge address only.
    const workerEnv = { ...env, DATABASE_URL: env.DATABASE_URL!.replace('127.0.0.1', net.hostAddress), WORKER_CONCURRENCY: '1', DATA_DIR: '/tmp/reprise-data', LOG_LEVEL: 'info' };
    const proc = await runOnHost(ns, repo, 'npm run worker', workerEnv);
    workers.set(ns, proc);
    await waitFor(`worker ${n} to start`, async () => (proc.log().includes('graphile worker pool started') ? true : undefined), 60_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}; its output:\n${proc.log().slice(-3000)}`);
      },
    );
    return ns;
  };

  before(async () => {
    if (skip) return;
    await net.up();
    pg = await startPostgres(['127.0.0.1', net.hostAddress], [`${net.subnet}.0/24`]);
    s3 = await startS3(net.hostAddress);
    // Reuse the suite's helpers for a fresh database and bucket on these servers.
    process.env.REPRISE_TEST_PG = pg.adminUrl;
    process.env.REPRISE_TEST_S3 = s3.endpoint;
    env = { ...(await freshBackendEnv()), SESSION_SECRET: 'a-session-secret-shared-by-every-web-process' };
    delete process.env.REPRISE_TEST_PG;
    delete process.env.REPRISE_TEST_S3;
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'reprise-web-'));
    env.DATA_DIR = dataDir;
    await run(process.execPath, ['bin/reprise.js', 'migrate'], { env: { ...process.env, ...env } });
    const port = await freePort();
    const w = startWeb(env, port);
    webs.push(w.child);
    web = w.url;
    await waitFor('web up', () => fetch(`${web}/readyz`).then((r) => (r.ok ? true : undefined), () => undefined), 60_000);
    await startWorker(1);
    await startWorker(2);
    api = await ApiClient.signUp(web, 'ops');
  });

  after(async () => {
    for (const w of webs) stopGroup(w, 'SIGKILL');
    if (skip) return;
    await net.down();
    await s3?.stop();
    await pg?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('spreads jobs over both worker hosts and completes them', async (t) => {
    if (skip) return t.skip(skip);
    const wav = await fixtures.wav();
    const ups = await Promise.all([0, 1, 2, 3].map(() => api.upload(wav, { presets: 'flac-cd,mp3-128k' })));
    for (const up of ups) assert.equal(up.status, 201, JSON.stringify(up.body));
    for (const up of ups) assert.equal((await fileWhen(api, up.body.id, (f) => f.status === 'completed', 'completion', 120_000)).outputs.length, 2);
    for (const [ns, proc] of workers) assert.match(proc.log(), /"msg":"job finished"/, `${ns} ran at least one job`);
    assert.match([...workers.values()][0]!.log(), /"jobId":"?\d+"?.*"workerId":"pool-[^"]+"/, 'worker logs carry job and worker ids');
  });

  it('cancels from the web process and stops ffmpeg on the worker host within 2 s', async (t) => {
    if (skip) return t.skip(skip);
    const up = await api.upload(await fixtures.long(), { name: 'Cancel me' });
    await fileWhen(api, up.body.id, (f) => f.status === 'running' && f.progress >= 1, 'running', 120_000);
    const host = await waitFor('the host running ffmpeg', async () => {
      for (const ns of workers.keys()) if ((await net.commandsIn(ns)).some((c) => c.startsWith('ffmpeg'))) return ns;
      return undefined;
    });
    const canceledAt = Date.now();
    assert.equal((await api.json<FileJson>('POST', `/files/${up.body.id}/cancel`)).body.status, 'canceled');
    await waitFor('ffmpeg to stop', async () => ((await net.commandsIn(host)).some((c) => c.startsWith('ffmpeg')) ? undefined : true), 5_000);
    assert.ok(Date.now() - canceledAt <= 2_000, `ffmpeg stopped after ${Date.now() - canceledAt} ms`);
  });

  it('finishes the job of a worker host that dies mid-transcode on the other host, once', async (t) => {
    if (skip) return t.skip(skip);
    const up = await api.upload(await fixtures.long(), { name: 'Survivor', presets: 'flac-cd,mp3-128k' });
    await fileWhen(api, up.body.id, (f) => f.status === 'running' && f.progress >= 3, 'running', 120_000);
    const victim = await waitFor('the host running it', async () => {
      for (const ns of workers.keys()) if ((await net.commandsIn(ns)).some((c) => c.startsWith('ffmpeg'))) return ns;
      return undefined;
    });
    await net.powerOff(victim);
    const diedAt = Date.now();
    const done = await fileWhen(api, up.body.id, (f) => f.status === 'completed', 'completion on the surviving host', 90_000);
    assert.ok(Date.now() - diedAt < 60_000, 'within a minute');
    for (const o of done.outputs) {
      const res = await api.request('GET', `/files/${up.body.id}/outputs/${o.preset}`);
      const file = path.join(dataDir, `check-${o.preset}`);
      await writeFile(file, Buffer.from(await res.arrayBuffer()));
      assert.ok(Math.abs((await ffprobe(file)).durationMs - 420_000) < 500, `${o.preset} whole`);
      await rm(file);
    }
    const notes = (await api.json<{ notifications: { fileId: string }[] }>('GET', '/notifications')).body.notifications;
    assert.equal(notes.filter((n) => n.fileId === up.body.id).length, 1, 'one notification');
    const keys = (await listStoredBlobs(env, dataDir)).filter((k) => k.includes(up.body.id));
    assert.equal(keys.filter((k) => !k.endsWith('/input')).length, 2, `no stray objects: ${keys.join(', ')}`);
    workers.delete(victim);
    await startWorker(3);
  });

  it('re-runs the job of a worker host that dies while uploading outputs; no partial object is served', async (t) => {
    if (skip) return t.skip(skip);
    const up = await api.upload(await fixtures.long(), { name: 'Publishing', presets: 'wav-44k-16,flac-cd' });
    // Progress stays at 99 from the end of ffmpeg until the outputs are published and recorded.
    await fileWhen(api, up.body.id, (f) => f.status === 'running' && f.progress >= 99, 'publishing', 120_000);
    const victim = await waitFor('the host publishing it', async () => {
      for (const [ns, p] of workers) {
        const lines = p.log().split('\n').filter((l) => l.includes(up.body.id));
        if (lines.some((l) => l.includes('job started')) && !lines.some((l) => l.includes('job finished'))) return ns;
      }
      return undefined;
    }, 5_000);
    await net.powerOff(victim);
    const mid = await fileOf(api, up.body.id);
    assert.equal(mid.status, 'running', 'killed before the job could finish');
    assert.deepEqual(mid.outputs, [], 'nothing is offered while publishing');
    workers.delete(victim);
    await startWorker(4);
    const done = await fileWhen(api, up.body.id, (f) => f.status === 'completed', 'completion after the re-run', 120_000);
    for (const o of done.outputs) {
      const res = await api.request('GET', `/files/${up.body.id}/outputs/${o.preset}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.equal(bytes.length, o.size, `${o.preset}: the size recorded is the size served`);
      const file = path.join(dataDir, `publish-${o.preset}`);
      await writeFile(file, bytes);
      assert.ok(Math.abs((await ffprobe(file)).durationMs - 420_000) < 500, `${o.preset} whole`);
      await rm(file);
    }
    const notes = (await api.json<{ notifications: { fileId: string }[] }>('GET', '/notifications')).body.notifications;
    assert.equal(notes.filter((n) => n.fileId === up.body.id).length, 1, 'one notification');
  });

  it('keeps working through a PostgreSQL restart, without losing or doubling a job', async (t) => {
    if (skip) return t.skip(skip);
    const up = await api.upload(await fixtures.long(), { name: 'Restart', presets: 'flac-cd' });
    await fileWhen(api, up.body.id, (f) => f.status === 'running', 'running', 120_000);
    await pg.restart();
    const done = await fileWhen(api, up.body.id, (f) => f.status === 'completed' || f.status === 'failed', 'an end after the restart', 120_000);
    assert.equal(done.status, 'completed', done.error ?? '');
    const notes = (await api.json<{ notifications: { fileId: string }[] }>('GET', '/notifications')).body.notifications;
    assert.equal(notes.filter((n) => n.fileId === up.body.id).length, 1);
    const after = await api.upload(await fixtures.wav(), { presets: 'mp3-128k' });
    assert.equal((await fileWhen(api, after.body.id, (f) => f.status === 'completed', 'a new job after the restart', 120_000)).status, 'completed');
  });

  it('pushes a dismissal made on one web process to streams on another', async (t) => {
    if (skip) return t.skip(skip);
    const port = await freePort();
    const second = startWeb(env, port);
    webs.push(second.child);
    await waitFor('second web up', () => fetch(`${second.url}/readyz`).then((r) => (r.ok ? true : undefined), () => undefined), 60_000);
    const up = await api.upload(await fixtures.wav(), { presets: 'mp3-128k' });
    await fileWhen(api, up.body.id, (f) => f.status === 'completed', 'completion', 120_000);
    const list = await api.json<{ notifications: { id: string; fileId: string }[] }>('GET', '/notifications?state=unread');
    const note = list.body.notifications.find((n) => n.fileId === up.body.id)!;
    const controller = new AbortController();
    const res = await fetch(`${second.url}/api/v1/events`, { headers: { authorization: `Bearer ${api.token}` }, signal: controller.signal });
    const reader = res.body!.getReader();
    let text = '';
    const seen = (async () => {
      while (!text.includes('notification.dismissed')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await api.json('POST', `/notifications/${note.id}/dismiss`)).status, 200, 'dismissed on the first web process');
    await Promise.race([seen, new Promise((_, reject) => setTimeout(() => reject(new Error('no dismissal event on the second web process')), 5_000))]);
    controller.abort();
    assert.match(text, new RegExp(`event: notification.dismissed\\ndata: \\{"ids":\\["${note.id}"\\]\\}`));
  });

  it('answers 503 when S3 is down during an upload, and leaves no row or object', async (t) => {
    if (skip) return t.skip(skip);
    const before = await api.json<{ files: unknown[] }>('GET', '/files');
    const objectsBefore = await listStoredBlobs(env, dataDir);
    await s3.down();
    try {
      const res = await api.upload(await fixtures.wav());
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.match(res.body.detail ?? '', /cannot reach its storage/);
    } finally {
      await s3.up();
    }
    const after = await api.json<{ files: unknown[] }>('GET', '/files');
    assert.equal(after.body.files.length, before.body.files.length, 'no row');
    assert.deepEqual(await listStoredBlobs(env, dataDir), objectsBefore, 'no object');
  });

  it('stops start-up with one line for a bad DATABASE_URL or a missing bucket', async (t) => {
    if (skip) return t.skip(skip);
    const badDb = await startupLine({ ...env, DATABASE_URL: env.DATABASE_URL!.replace(/\/t_/, '/nope_') });
    assert.equal(badDb.code, 1);
    assert.equal(badDb.lines.length, 1, badDb.lines.join('\n'));
    assert.match(badDb.lines[0]!, /^reprise: DATABASE_URL: cannot use the database/);
    const noBucket = await startupLine({ ...env, S3_BUCKET: 'no-such-bucket' });
    assert.equal(noBucket.code, 1);
    assert.equal(noBucket.lines.length, 1, noBucket.lines.join('\n'));
    assert.match(noBucket.lines[0]!, /^reprise: S3_BUCKET: bucket "no-such-bucket" is missing or not accessible/);
  });

  it('hands back or finishes the running job when a worker gets SIGTERM', async (t) => {
    if (skip) return t.skip(skip);
    const up = await api.upload(await fixtures.long(), { name: 'Rolling deploy', presets: 'flac-cd' });
    await fileWhen(api, up.body.id, (f) => f.status === 'running', 'running', 120_000);
    const [ns, proc] = await waitFor('the host running it', async () => {
      for (const [n, p] of workers) if ((await net.commandsIn(n)).some((c) => c.startsWith('ffmpeg'))) return [n, p] as const;
      return undefined;
    });
    const stoppedAt = Date.now();
    // What a service manager does on a rolling deploy: SIGTERM to the worker's node process.
    for (const pid of await net.pids(ns)) {
      const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
      if (comm.trim() === 'node') process.kill(pid, 'SIGTERM');
    }
    await proc.exited;
    assert.ok(Date.now() - stoppedAt < 15_000, `stopped in ${Date.now() - stoppedAt} ms (grace 10 s)`);
    workers.delete(ns);
    assert.equal((await fileWhen(api, up.body.id, (f) => f.status === 'completed', 'completion elsewhere', 120_000)).status, 'completed');
  });
});
