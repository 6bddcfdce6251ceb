import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import type { Database, JobRow } from '../src/db/schema.ts';
import type { JobTable } from '../src/queue/embedded-table.ts';
import { createLogger } from '../src/log.ts';
import { childrenDieWithParent } from '../src/media/spawn.ts';
import { createEmbeddedQueue } from '../src/queue/embedded.ts';
import { sweepDeadProcessEntries } from '../src/sweep.ts';
import { ffprobe, fixtures } from './helpers/audio.ts';
import { freshBackendEnv, listStoredBlobs } from './helpers/backends.ts';
import { ApiClient, type FileJson } from './helpers/clients.ts';
import { waitFor } from './helpers/server.ts';
import { fileEnded } from './helpers/files.ts';

const linux = process.platform === 'linux';

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  args: string[];
}

/** Every live (non-zombie) process, read straight from /proc: independent of the code under test. */
async function processes(): Promise<Proc[]> {
  const found = await Promise.all(
    (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(async (n): Promise<Proc[]> => {
      try {
        const stat = await readFile(`/proc/${n}/stat`, 'utf8');
        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
        const close = stat.lastIndexOf(')');
        const [state, ppid] = stat.slice(close + 2).split(' ');
        if (state === 'Z') return [];
        const args = (await readFile(`/proc/${n}/cmdline`, 'utf8')).split('\0').filter(Boolean);
        return [{ pid: Number(n), ppid: Number(ppid), comm: stat.slice(stat.indexOf('(') + 1, close), args }];
      } catch {
        return []; // gone while we looked
      }
    }),
  );
  return found.flat();
}

const mentioning = async (text: string) => (await processes()).filter((p) => p.args.some((a) => a.includes(text)));

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

/** A pid that belonged to a process which has exited: what a killed server leaves in its names. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await once(child, 'exit');
  return child.pid!;
}

const stopped = async (child: ChildProcess) => {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
};

describe('orphaned ffmpeg', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) await stopped(c);
    // If a test failed, leave no encoder behind on the machine.
    for (const d of dirs) for (const p of await mentioning(d)) process.kill(p.pid, 'SIGKILL');
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  /** A process that names `arg` on its command line and otherwise sleeps. */
  const holdArg = (arg: string) => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', arg], { stdio: 'ignore' });
    children.push(child);
    return child;
  };

  it('dies with the server when only the server is SIGKILLed mid-job; the re-run completes once', { skip: !linux || !childrenDieWithParent ? 'needs Linux and setpriv to tie ffmpeg to the server' : false }, async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'reprise-orphan-'));
    dirs.push(dataDir);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const backendEnv = await freshBackendEnv();
    // One-pass path (segments off): the segmented path's parts are covered by the segment tests.
    // No `detached`: the server shares our process group, so nothing but its own pid gets the signal.
    const start = () => {
      const child = spawn(process.execPath, ['bin/reprise.js', 'serve'], {
        env: { ...process.env, ...backendEnv, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '1', SEGMENT_MIN_SECONDS: '0' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      return child;
    };
    const up = (what: string) => waitFor(what, () => fetch(`${base}/healthz`).then((r) => (r.ok ? true : undefined), () => undefined), 30_000);

    const server = start();
    const serverPid = server.pid!;
    await up('server up');
    const api = await ApiClient.signUp(base, 'orphan');
    const upload = await api.upload(await fixtures.long(), { name: 'Orphan test' });
    assert.equal(upload.status, 201);
    const fileId = upload.body.id;
    await waitFor('ffmpeg at work', async () => {
      const f = (await api.json<FileJson>('GET', `/files/${fileId}`)).body;
      return f.status === 'running' && f.progress > 0 ? true : undefined;
    }, 60_000);

    // The job's ffmpeg: a direct child of the server (setpriv execs it), writing into the job's scratch.
    const scratch = path.join(dataDir, 'tmp', `job-${serverPid}-${fileId}-`);
    // S3 mode downloads the input first, so progress may show before the encoder has started.
    const encoders = await waitFor('the job\'s ffmpeg', async () => {
      const found = (await mentioning(scratch)).filter((p) => p.ppid === serverPid);
      return found.length > 0 ? found : undefined;
    }, 30_000);
    assert.equal(encoders.length, 1, 'one ffmpeg runs the job before the kill');
    assert.equal(encoders[0]!.comm, 'ffmpeg');

    const exited = once(server, 'exit');
    process.kill(serverPid, 'SIGKILL');
    const left = await waitFor('no process left in the data folder', async () => {
      const procs = await mentioning(dataDir);
      return procs.length === 0 ? procs : undefined;
    }, 2_000).catch(async () => mentioning(dataDir));
    assert.deepEqual(left.map((p) => `${p.pid} ${p.args.join(' ')}`), [], 'ffmpeg died with the server');
    await exited;

    const second = start();
    await up('server up again');
    const done = await fileEnded(api, fileId, 120_000);
    assert.equal(done.status, 'completed', done.error ?? '');
    for (const output of done.outputs) {
      const res = await api.request('GET', `/files/${fileId}/outputs/${output.preset}`);
      const file = path.join(dataDir, `check.${output.preset}`);
      await writeFile(file, Buffer.from(await res.arrayBuffer()));
      const probe = await ffprobe(file);
      assert.ok(Math.abs(probe.durationMs - 420_000) < 500, `${output.preset}: ${probe.durationMs} ms, whole`);
      await rm(file);
    }
    assert.deepEqual(done.outputs.map((o) => o.preset).sort(), ['aac-256k', 'flac-cd', 'wav-44k-16']);
    const notes = (await api.json<{ notifications: { fileId: string }[] }>('GET', '/notifications')).body.notifications;
    assert.equal(notes.filter((n) => n.fileId === fileId).length, 1, 'exactly one notification');
    const stored = (await listStoredBlobs(backendEnv, dataDir)).filter((o) => o.includes(fileId));
    assert.equal(stored.filter((o) => /\.(wav|flac|m4a)$/.test(o)).length, 3, `three outputs, no strays: ${stored.join(', ')}`);
    assert.deepEqual(await readdir(path.join(dataDir, 'tmp')), [], 'the dead run\'s scratch was swept, the re-run\'s cleaned up');

    const stoppedCleanly = once(second, 'exit');
    second.kill('SIGTERM');
    assert.deepEqual(await stoppedCleanly, [0, null], 'clean shutdown on SIGTERM');
  });

  it('start-up sweep keeps a dead process\'s scratch while a live process names it or holds it open', { skip: !linux && 'reads /proc' }, async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'reprise-sweep-'));
    dirs.push(root);
    const dead = await deadPid();
    const entry = async (tag: string) => {
      const dir = path.join(root, `job-${dead}-${tag}-AbC123`);
      await mkdir(dir);
      await writeFile(path.join(dir, 'out.wav'), 'partial');
      return dir;
    };
    const [named, opened] = [await entry('named'), await entry('opened')];
    await entry('free');

    // Like an untied ffmpeg: its output path is on its command line.
    const namer = holdArg(`file:${named}/out.wav`);
    // Like a process holding a file open without naming it.
    const opener = spawn(process.execPath, ['-e', "require('fs').openSync(process.env.HELD, 'r'); console.log('open'); setInterval(() => {}, 1000)"], {
      env: { ...process.env, HELD: path.join(opened, 'out.wav') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(opener);
    await once(opener.stdout!, 'data');

    const warnings: unknown[] = [];
    const log = { warn: (obj: unknown) => void warnings.push(obj) };
    assert.deepEqual(await sweepDeadProcessEntries(root, 'job-', log), [`job-${dead}-free-AbC123`], 'only the unused entry goes');
    assert.deepEqual((await readdir(root)).sort(), [path.basename(named), path.basename(opened)].sort());
    assert.equal(warnings.length, 2, 'each kept entry is logged');

    await stopped(namer);
    await stopped(opener);
    assert.deepEqual((await sweepDeadProcessEntries(root, 'job-')).sort(), [path.basename(named), path.basename(opened)].sort());
    assert.deepEqual(await readdir(root), []);
  });

  it('embedded queue: without the tie, a job waits while a dead worker\'s ffmpeg still runs its file', { skip: !linux && 'reads /proc' }, async () => {
    const fileId = 'f0e1d2c3-0000-4000-8000-000000000001';
    const { table, calls } = oneJobTable(fileId);
    const orphan = holdArg(`file:${os.tmpdir()}/reprise-x/tmp/job-${await deadPid()}-${fileId}-AbC123/aac-256k.m4a`);
    // The table is in memory, so no database is ever reached through the Kysely handle.
    const embedded = createEmbeddedQueue({} as Kysely<Database>, createLogger('silent'), { childrenDieWithParent: false, orphanRecheckMs: 200, table });
    const ran: string[] = [];
    const pool = await embedded.startWorkers(1, async (_name, payload) => void ran.push((payload as { fileId: string }).fileId));
    try {
      await waitFor('a claim that was handed back', async () => (calls.release >= 2 ? true : undefined), 5_000);
      assert.deepEqual(ran, [], 'not run while the orphan lives');
      await stopped(orphan);
      await waitFor('the job to run', async () => (ran.length > 0 ? true : undefined), 5_000);
      assert.deepEqual(ran, [fileId]);
      assert.equal(calls.remove, 1);
    } finally {
      await pool.stop(1_000);
    }
  });
});

/** A jobs table with one queued transcode job, in memory: all the embedded queue asks of its table. */
function oneJobTable(fileId: string) {
  const job: JobRow = {
    id: 1, name: 'transcode', payload: JSON.stringify({ fileId, generation: 1 }), key: null,
    state: 'queued', attempts: 0, locked_by: null, heartbeat_at: null, run_at: 0, created_at: 0, priority: 0, user_id: null,
  };
  const calls = { release: 0, remove: 0 };
  let removed = false;
  const table: JobTable = {
    async insert() {},
    async removeQueued() {},
    async claim(workerId, now) {
      if (removed || job.state !== 'queued' || job.run_at > now) return undefined;
      Object.assign(job, { state: 'running', locked_by: workerId, heartbeat_at: now, attempts: job.attempts + 1 });
      return { ...job };
    },
    async heartbeat() {},
    async liveSlots() {
      return 1;
    },
    async remove() {
      calls.remove++;
      removed = true;
    },
    async release(_id, runAt) {
      calls.release++;
      Object.assign(job, { state: 'queued', locked_by: null, heartbeat_at: null, run_at: runAt });
    },
    async releaseHeldBy() {
      return 0;
    },
    async runningLockHolders() {
      return [];
    },
    async names() {
      return ['transcode'];
    },
  };
  return { table, calls };
}
