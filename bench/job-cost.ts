/**
 * Issue 12's fixed cost of a job: the CPU a scale-out worker spends on a one-pass job beside the
 * ffmpeg run itself (fetching the input from the bucket, probing it, bookkeeping, publishing the
 * outputs), measured against the same encodes as bare ffmpeg in the same run.
 *
 * Eight 90 s stereo WAVs → aac-256k. The files are uploaded with no worker running; then one
 * worker process of one slot drains the queue while the bench reads its CPU from /proc: its own
 * (Node: the S3 client, PostgreSQL, graphile-worker, the job's bookkeeping) and its reaped
 * children's (ffmpeg, ffprobe). The worker's "transcode phases" log lines say where the wall time
 * went, phase by phase.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { transcodeArgs } from '../src/media/ffmpeg-args.ts';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { findPreset } from '../src/media/presets.ts';
import { signUpAndLogIn, watchCompletions } from './http.ts';
import { diskFile } from './input.ts';
import { timeProcess } from './proc.ts';
import { ensureExcerpt, uploadWith } from './scale-client.ts';
import { Cluster, startBackends } from './scale.ts';
import { median, readCpuMs, round, sleep } from './util.ts';

const JOBS = 8;
const EXCERPT_SECONDS = 90;
const PRESET = 'aac-256k';
const PHASES = ['start', 'probe', 'fetch', 'encode', 'publish', 'finish'] as const;

export interface JobCost {
  jobs: number;
  inputSeconds: number;
  preset: string;
  /** Per job, CPU ms: bare ffmpeg with the service's arguments, and ffprobe as the job runs it. */
  bareFfmpegMs: number;
  ffprobeMs: number;
  /** Per job, CPU ms of the worker process tree: its own (Node) and its children's (ffmpeg, ffprobe). */
  workerOwnMs: number;
  workerChildrenMs: number;
  /** The worker's own CPU while idle, per second: what it costs to wait for work (heartbeats, polling). */
  idleOwnMsPerSecond: number;
  /** Worker tree CPU ÷ bare ffmpeg CPU, per job: the fixed cost in one figure. */
  ratio: number;
  /** Median wall ms per phase of a job (worker log), and the drain's wall seconds. */
  phasesMs: Record<string, number>;
  /** Median CPU ms per phase of the worker's own (Node) time, as the job measured it. */
  phasesCpuMs: Record<string, number>;
  drainSeconds: number;
  load: number[];
}

async function bareCosts(input: string, workDir: string): Promise<{ ffmpegMs: number; ffprobeMs: number }> {
  const preset = findPreset(PRESET);
  if (!preset) throw new Error(`unknown preset ${PRESET}`);
  const media = createFfmpegMedia({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallTimeoutMs: 60_000 });
  const before = readCpuMs('self').children;
  const probe = await media.probe(input);
  const ffprobeMs = readCpuMs('self').children - before;
  const dir = await mkdtemp(path.join(workDir, 'job-cost-'));
  try {
    let ffmpegMs = 0;
    for (let i = 0; i < JOBS; i++) {
      const plan = { preset, path: path.join(dir, `${i}.${preset.extension}`) };
      ffmpegMs += (await timeProcess('ffmpeg', transcodeArgs(input, probe, [plan], path.join(dir, `${i}.peaks`)), 120_000)).cpuMs;
    }
    return { ffmpegMs: ffmpegMs / JOBS, ffprobeMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function jobCostBenchmark(workDir: string, log: (line: string) => void): Promise<JobCost> {
  const input = await ensureExcerpt(EXCERPT_SECONDS);
  const bare = await bareCosts(input, workDir);
  log(`  bare, per job: ffmpeg ${Math.round(bare.ffmpegMs)} ms CPU, ffprobe ${Math.round(bare.ffprobeMs)} ms CPU (load ${os.loadavg()[0]?.toFixed(2)})`);
  const backends = await startBackends();
  try {
    const { cluster } = await Cluster.create('job-cost', backends);
    try {
      const web = await cluster.startWeb('web');
      const token = await signUpAndLogIn(web.port);
      const watch = await watchCompletions(web.port, token);
      try {
        const file = await diskFile(input, 'audio/wav');
        const ids: string[] = [];
        for (let i = 0; i < JOBS; i++) ids.push((await uploadWith(web.port, token, file, { presets: PRESET }, 60_000)).id);
        // startWorker preloads BENCH_WORKER_IMPORT (e.g. a profiler) when it is set.
        const worker = await cluster.startWorker('worker', 1, 60_000);
        // From its pool start: the queue is full, so it is already draining (idle cost is measured after).
        const cpu0 = readCpuMs(worker.pid);
        const started = performance.now();
        await Promise.all(ids.map((id) => watch.completedAt(id, 300_000)));
        await sleep(300); // the last ffmpeg is reaped around the time its completion is announced
        const cpu1 = readCpuMs(worker.pid);
        const drainSeconds = (performance.now() - started) / 1000;
        // The worker's cost of waiting (heartbeats, polling), so the drain's figure can be read net of it.
        const idle0 = readCpuMs(worker.pid);
        const idleFrom = performance.now();
        await sleep(5_000);
        const idleOwnMsPerSecond = (readCpuMs(worker.pid).own - idle0.own) / ((performance.now() - idleFrom) / 1000);
        const phaseLines = worker.lines.filter((l) => l.msg === 'transcode phases' && l.fileId !== undefined && ids.includes(l.fileId));
        if (phaseLines.length !== JOBS) throw new Error(`${phaseLines.length} of ${JOBS} jobs logged their phases`);
        const medianOf = (field: string) => {
          const means: Record<string, number> = {};
          for (const phase of PHASES) {
            const values = phaseLines.map((l) => {
              const laps = l.fields[field] as Record<string, unknown> | undefined;
              return typeof laps?.[phase] === 'number' ? laps[phase] : 0;
            });
            // The median: the first job also pays for loading what the worker had not used yet.
            means[phase] = round(median(values), 0);
          }
          return means;
        };
        const phasesMs = medianOf('ms');
        const phasesCpuMs = medianOf('cpuMs');
        const workerOwnMs = (cpu1.own - cpu0.own) / JOBS;
        const workerChildrenMs = (cpu1.children - cpu0.children) / JOBS;
        const result: JobCost = {
          jobs: JOBS,
          inputSeconds: EXCERPT_SECONDS,
          preset: PRESET,
          bareFfmpegMs: round(bare.ffmpegMs, 0),
          ffprobeMs: round(bare.ffprobeMs, 0),
          workerOwnMs: round(workerOwnMs, 0),
          workerChildrenMs: round(workerChildrenMs, 0),
          idleOwnMsPerSecond: round(idleOwnMsPerSecond, 1),
          ratio: round((workerOwnMs + workerChildrenMs) / bare.ffmpegMs, 3),
          phasesMs,
          phasesCpuMs,
          drainSeconds: round(drainSeconds, 2),
          load: os.loadavg().map((l) => round(l, 2)),
        };
        return result;
      } finally {
        watch.close();
      }
    } finally {
      await cluster.stop();
    }
  } finally {
    await backends.stop();
  }
}

export function reportJobCost(r: JobCost, log: (line: string) => void): void {
  log('');
  log(`Fixed cost of a job (issue 12), scale-out: ${r.jobs} × ${r.inputSeconds} s stereo WAV → ${r.preset}, one worker process of one slot`);
  log(`  per job, CPU: bare ffmpeg ${r.bareFfmpegMs} ms; worker ${r.workerOwnMs + r.workerChildrenMs} ms = Node ${r.workerOwnMs} ms + children (ffmpeg, ffprobe) ${r.workerChildrenMs} ms; ffprobe alone ${r.ffprobeMs} ms`);
  log(`  worker ÷ bare ffmpeg = ${r.ratio} (the fixed cost is the excess over 1); idle worker ${r.idleOwnMsPerSecond} ms CPU per second`);
  const byPhase = (laps: Record<string, number>) => Object.entries(laps).map(([k, v]) => `${k} ${v}`).join(', ');
  log(`  per job by phase (median of ${r.jobs}), wall ms: ${byPhase(r.phasesMs)}`);
  log(`  per job by phase (median), worker Node CPU ms: ${byPhase(r.phasesCpuMs)} (the rest of its ${r.workerOwnMs} ms is between jobs: queue, heartbeats)`);
  log(`  drain ${r.drainSeconds} s; load ${r.load.join(' / ')}`);
}
