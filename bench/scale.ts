/**
 * The processes of a scale-out deployment on loopback, as docs/deploy.md runs them: PostgreSQL,
 * an S3-compatible server, web processes (`serve`, WORKER_CONCURRENCY=0) and worker processes
 * (`worker`, no HTTP), each with its own DATA_DIR. Everything started is registered so that an
 * error or Ctrl-C stops it.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { freshBackendEnv } from '../test/helpers/backends.ts';
import { startPostgres } from '../test/support/services.ts';
import { freePort, killLiveChildren, startNodeChild, track, type Child } from './proc.ts';
import { serviceEnv } from './service.ts';
import { jsonLines, killWorkerGroups, WorkerProc } from './scale-worker.ts';
import { isRecord, repoRoot } from './util.ts';

const run = promisify(execFile);

/** Stops of everything still running, newest last. */
const stoppers = new Set<() => Promise<void>>();

function register(stop: () => Promise<void>): () => Promise<void> {
  const once = async () => {
    stoppers.delete(once);
    await stop();
  };
  stoppers.add(once);
  return once;
}

/** Stops everything still registered, newest first, within `timeoutMs`; then SIGKILLs what is left. */
export async function stopEverything(timeoutMs = 30_000): Promise<void> {
  const all = [...stoppers].reverse();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  const inOrder = (async () => {
    for (const stop of all) await stop().catch((err: unknown) => console.error(`cleanup: ${String(err)}`));
  })();
  await Promise.race([inOrder, deadline]);
  clearTimeout(timer);
  killLiveChildren();
  killWorkerGroups();
}

export interface Backends {
  pgUrl: string;
  pgPort: number;
  s3Endpoint: string;
  s3Pid: number;
  /** A new database and bucket on these servers, as environment settings. */
  freshEnv(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/** PostgreSQL (startPostgres) and s3rver (startS3, in a child process), on 127.0.0.1. */
export async function startBackends(): Promise<Backends> {
  const pg = await startPostgres(['127.0.0.1']);
  const stopPg = register(() => pg.stop());
  const s3 = spawn(process.execPath, ['--import', 'tsx', path.join('bench', 'scale-s3.ts')], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  track(s3);
  let s3Log = '';
  s3.stderr.on('data', (d: Buffer) => (s3Log = (s3Log + d.toString('utf8')).slice(-4000)));
  const s3Exited = new Promise<void>((resolve) => s3.once('exit', () => resolve()));
  const stopS3 = register(async () => {
    if (s3.exitCode !== null || s3.signalCode !== null) return;
    s3.kill('SIGTERM');
    const killer = setTimeout(() => s3.kill('SIGKILL'), 10_000);
    await s3Exited;
    clearTimeout(killer);
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 30 s: ${s3Log}`)), 30_000);
    s3.once('exit', (code) => reject(new Error(`s3rver exited (${code}): ${s3Log}`)));
    createInterface({ input: s3.stdout }).once('line', (line) => {
      clearTimeout(timer);
      const parsed: unknown = JSON.parse(line);
      if (isRecord(parsed) && typeof parsed.endpoint === 'string') resolve(parsed.endpoint);
      else reject(new Error(`s3rver said ${line}`));
    });
  });
  return {
    pgUrl: pg.adminUrl,
    pgPort: pg.port,
    s3Endpoint: endpoint,
    s3Pid: s3.pid ?? -1,
    async freshEnv() {
      process.env.REPRISE_TEST_PG = pg.adminUrl;
      process.env.REPRISE_TEST_S3 = endpoint;
      try {
        return await freshBackendEnv();
      } finally {
        delete process.env.REPRISE_TEST_PG;
        delete process.env.REPRISE_TEST_S3;
      }
    },
    async stop() {
      await stopS3();
      await stopPg();
    },
  };
}

/** Warning and error lines the service logged, per scenario, gathered as each cluster stops. */
export const serviceWarnings: string[] = [];

export const SESSION_SECRET = 'reprise-scale-out-bench-session-secret-for-all-webs';

/** One scenario's deployment: a fresh database and bucket, migrated, and the processes on it. */
export class Cluster {
  private readonly stopSelf: () => Promise<void>;
  private readonly webs: { name: string; child: Child }[] = [];
  private readonly workers: WorkerProc[] = [];

  private constructor(
    readonly label: string,
    readonly env: Record<string, string>,
    private readonly dir: string,
  ) {
    this.stopSelf = register(() => this.stopAll());
  }

  /** A fresh database and bucket, then `node bin/reprise.js migrate`; returns the migration's seconds too. */
  static async create(label: string, backends: Backends, timeoutMs = 90_000): Promise<{ cluster: Cluster; migrateSeconds: number }> {
    const env = await backends.freshEnv();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-scale-'));
    const cluster = new Cluster(label, env, dir);
    const started = performance.now();
    try {
      await run(process.execPath, ['bin/reprise.js', 'migrate'], { cwd: repoRoot, env: { ...cluster.baseEnv('migrate', 0), LOG_LEVEL: 'warn' }, timeout: timeoutMs });
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return { cluster, migrateSeconds: (performance.now() - started) / 1000 };
  }

  /** serviceEnv (loopback, defaults) plus the shared database, bucket and session secret. */
  private baseEnv(name: string, port: number, concurrency = 0): NodeJS.ProcessEnv {
    return { ...serviceEnv(path.join(this.dir, name), port, concurrency), ...this.env, SESSION_SECRET, LOGIN_RATE_LIMIT: '10000', SIGNUP_RATE_LIMIT: '10000', API_RATE_LIMIT: '1000000' };
  }

  /** A web process (`serve`, WORKER_CONCURRENCY=0), waited for until /healthz answers. */
  async startWeb(name: string): Promise<Child> {
    const port = await freePort();
    const web = await startNodeChild(name, 'src/main.ts', ['serve'], this.baseEnv(name.replace(/\W+/g, '-'), port), port);
    this.webs.push({ name, child: web });
    return web;
  }

  /** A worker process (`worker`, LOG_LEVEL=info, plus `extraEnv`), waited for until its pool has started. */
  async startWorker(name: string, slots: number, timeoutMs = 60_000, extraEnv: Record<string, string> = {}): Promise<WorkerProc> {
    // BENCH_WORKER_IMPORT=<module>: preloaded into each worker (e.g. one that starts the inspector's profiler).
    const preload: Record<string, string> = process.env.BENCH_WORKER_IMPORT ? { NODE_OPTIONS: `--import ${process.env.BENCH_WORKER_IMPORT}` } : {};
    const env = { ...this.baseEnv(name.replace(/\W+/g, '-'), 0, slots), LOG_LEVEL: 'info', ...preload, ...extraEnv };
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'worker'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const worker = new WorkerProc(name, proc);
    this.workers.push(worker);
    proc.once('error', (err) => console.error(`${name}: ${err.message}`));
    await worker.waitFor((l) => l.msg === 'graphile worker pool started', 'pool start', timeoutMs);
    return worker;
  }

  /** Stops (SIGTERM) the workers still running. */
  async stopWorkers(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }

  stop(): Promise<void> {
    return this.stopSelf();
  }

  /** Warning and error lines (pino level ≥ 40) of the service processes, counted by process and message. */
  warnings(): string[] {
    const counts = new Map<string, number>();
    const add = (who: string, fields: Record<string, unknown>) => {
      if (typeof fields.level !== 'number' || fields.level < 40) return;
      const key = `${who}: ${String(fields.msg)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    };
    for (const w of this.workers) for (const line of w.lines) add(w.name, line.fields);
    for (const w of this.webs) for (const fields of jsonLines(w.child.logTail())) add(w.name, fields);
    return [...counts].map(([key, n]) => (n > 1 ? `${key} (×${n})` : key));
  }

  private async stopAll(): Promise<void> {
    for (const w of this.warnings()) serviceWarnings.push(`${this.label}: ${w}`);
    await this.stopWorkers();
    await Promise.all(this.webs.map((w) => w.child.stop()));
    await rm(this.dir, { recursive: true, force: true });
  }
}
