/**
 * Scale-out scenario 1: throughput of one worker process (one slot) against two, same web process
 * and database. Two ways: (a) "uploading": the workers run while the 8 files are uploaded one after
 * another, wall time from the first upload to the last completion; (b) "queued": the 8 files are
 * uploaded with no worker running, then the workers start, wall time from the first worker's pool
 * start to the last completion (the queue drain alone, no upload traffic competing for the cores).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { signUpAndLogIn, watchCompletions } from './http.ts';
import { diskFile } from './input.ts';
import { bareCeiling, type BareCeiling } from './scale-bare.ts';
import { ensureExcerpt, uploadWith } from './scale-client.ts';
import { CpuMeter, postmasterPid } from './scale-cpu.ts';
import { Cluster, type Backends } from './scale.ts';
import { failureOf, type WorkerProc } from './scale-worker.ts';
import { round, sleep } from './util.ts';

const JOBS = 8;
const EXCERPT_SECONDS = 90;
const PRESET = 'aac-256k';
const BATCH_TIMEOUT_MS = 150_000;

type Log = (line: string) => void;
type Mode = 'uploading' | 'queued';

export interface Batch {
  mode: Mode;
  workers: number;
  wallSeconds: number;
  uploadSeconds: number;
  /** How many of the batch's jobs each worker started, in worker order. */
  jobsPerWorker: number[];
  /**
   * Cores busy over the batch, per process tree: the workers (with their ffmpeg), the web process,
   * s3rver, PostgreSQL, this bench, the rest of the machine (other) and the machine in all.
   */
  cores: Record<string, number>;
  loadAverageAtStart: number;
}

export interface ThroughputResult {
  jobs: number;
  inputSeconds: number;
  preset: string;
  /** Batches in the order run; per mode one worker, two, two, one (so drifting load cancels out). */
  batches: Batch[];
  /** Means of the "uploading" batches: the headline numbers. */
  oneWorkerSeconds: number;
  twoWorkersSeconds: number;
  speedUp: number;
  /** The same for the "queued" batches. */
  queued: { oneWorkerSeconds: number; twoWorkersSeconds: number; speedUp: number };
  /** The same encodes as bare ffmpeg processes, one at a time against two: the machine's ceiling. */
  bare: BareCeiling;
}

interface Ctx {
  cluster: Cluster;
  port: number;
  token: string;
  watch: Awaited<ReturnType<typeof watchCompletions>>;
  input: string;
  others: Record<string, () => readonly number[]>;
  log: Log;
}

/** Runs one batch: `mode` says whether the workers already run during the uploads. */
async function batch(ctx: Ctx, mode: Mode, running: readonly WorkerProc[], workerCount: number): Promise<Batch> {
  const file = await diskFile(ctx.input, 'audio/wav');
  const ids = new Set<string>();
  const workers: WorkerProc[] = [...running];
  let watchFailures = failureOf(workers, ids);
  const loadAverageAtStart = round(os.loadavg()[0] ?? 0, 2);
  const meter = new CpuMeter({ workers: () => workers.map((w) => w.pid), ...ctx.others });
  meter.start();
  let started = performance.now();
  try {
    for (let i = 0; i < JOBS; i++) ids.add((await uploadWith(ctx.port, ctx.token, file, { presets: PRESET }, 60_000)).id);
    const uploadSeconds = round((performance.now() - started) / 1000, 2);
    if (mode === 'queued') {
      const fresh = await Promise.all(Array.from({ length: workerCount }, (_, i) => ctx.cluster.startWorker(`queued worker ${i + 1}`, 1)));
      workers.push(...fresh);
      meter.start();
      // The clock starts when the first pool could take a job; a slower second start counts against two workers.
      started = Math.min(...fresh.map((w) => w.lines.find((l) => l.msg === 'graphile worker pool started')?.at ?? performance.now()));
      watchFailures.close();
      watchFailures = failureOf(workers, ids);
    }
    const all = Promise.all([...ids].map((id) => ctx.watch.completedAt(id, BATCH_TIMEOUT_MS)));
    all.catch(() => undefined); // a failure below wins the race; the pending waits then time out unheard
    const done = await Promise.race([all, watchFailures.failed]);
    const wallMs = Math.max(...done) - started;
    await sleep(300); // the worker reaps its last ffmpeg around the time the completion is announced
    const cores = meter.stop();
    const jobsPerWorker = workers.map((w) => w.lines.filter((l) => l.msg === 'job started' && l.fileId !== undefined && ids.has(l.fileId)).length);
    const b: Batch = { mode, workers: workers.length, wallSeconds: round(wallMs / 1000, 2), uploadSeconds, jobsPerWorker, cores, loadAverageAtStart };
    ctx.log(`  ${mode}, ${b.workers} worker${b.workers > 1 ? 's' : ''} × 1 slot: ${b.wallSeconds} s (uploads ${uploadSeconds} s; jobs per worker ${jobsPerWorker.join(' + ')}; load ${loadAverageAtStart})`);
    ctx.log(`    cores busy: ${Object.entries(cores).map(([name, n]) => `${name} ${n}`).join(', ')}`);
    return b;
  } finally {
    watchFailures.close();
  }
}

function summary(batches: readonly Batch[], mode: Mode) {
  const mean = (n: number) => {
    const walls = batches.filter((b) => b.mode === mode && b.workers === n).map((b) => b.wallSeconds);
    return round(walls.reduce((a, b) => a + b, 0) / walls.length, 2);
  };
  const oneWorkerSeconds = mean(1);
  const twoWorkersSeconds = mean(2);
  return { oneWorkerSeconds, twoWorkersSeconds, speedUp: round(oneWorkerSeconds / twoWorkersSeconds, 2) };
}

/** Bare ffmpeg first, then per mode batches on one worker, two, two, one. */
export async function throughputScenario(backends: Backends, log: Log): Promise<ThroughputResult> {
  const input = await ensureExcerpt(EXCERPT_SECONDS);
  const bare = await bareCeiling(input, PRESET, JOBS, log);
  const { cluster, migrateSeconds } = await Cluster.create('throughput', backends);
  log(`  fresh database + bucket, migrated in ${round(migrateSeconds, 1)} s`);
  try {
    const web = await cluster.startWeb('web');
    const token = await signUpAndLogIn(web.port);
    const watch = await watchCompletions(web.port, token);
    try {
      const pgPid = postmasterPid(backends.pgPort);
      const others = { web: () => [web.pid], s3rver: () => [backends.s3Pid], postgres: () => (pgPid ? [pgPid] : []) };
      const ctx: Ctx = { cluster, port: web.port, token, watch, input, others, log };
      const batches: Batch[] = [];
      const first = await cluster.startWorker('worker 1', 1);
      batches.push(await batch(ctx, 'uploading', [first], 1));
      const second = await cluster.startWorker('worker 2', 1);
      batches.push(await batch(ctx, 'uploading', [first, second], 2));
      batches.push(await batch(ctx, 'uploading', [first, second], 2));
      await second.stop();
      batches.push(await batch(ctx, 'uploading', [first], 1));
      for (const n of [1, 2, 2, 1]) {
        await cluster.stopWorkers();
        batches.push(await batch(ctx, 'queued', [], n));
      }
      return { jobs: JOBS, inputSeconds: EXCERPT_SECONDS, preset: PRESET, batches, ...summary(batches, 'uploading'), queued: summary(batches, 'queued'), bare };
    } finally {
      watch.close();
    }
  } finally {
    await cluster.stop();
  }
}
