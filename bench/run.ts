/**
 * `npm run bench`: the service's transcode overhead against bare ffmpeg, its memory while a
 * 1 GiB upload streams in against a bare Node server, and live-push latency and memory per idle
 * event stream. Prints a table, then one JSON line.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureInputWav } from './input.ts';
import { liveBenchmark } from './live.ts';
import { bareUploadMemory, serviceUploadMemory } from './memory.ts';
import { reportTranscode, reportUpload } from './report.ts';
import { transcodeBenchmark } from './transcode.ts';
import { killLiveChildren } from './proc.ts';
import { round } from './util.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const log = (line: string) => console.log(line);

async function main(): Promise<void> {
  if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 20) throw new Error('BENCH_ROUNDS must be 1..20');
  const started = performance.now();
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'reprise-bench-'));
  const interrupt = () => {
    killLiveChildren();
    rmSync(workDir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const loadAtStart = os.loadavg()[0] ?? 0;
    log(`Reprise bench: node ${process.version}, ${os.availableParallelism()} cores, load ${loadAtStart.toFixed(2)}, work dir ${workDir}`);
    if (loadAtStart > 0.5) log('  warning: the machine is already busy; timings will be noisy');
    const input = await ensureInputWav();
    log(`input: ${input}`);

    log(`transcode benchmark, ${ROUNDS} rounds of (a) (b) (c), order rotated each round:`);
    const runs = await transcodeBenchmark(input, workDir, ROUNDS, log);

    log('upload memory benchmark:');
    const serviceUpload = await serviceUploadMemory(workDir);
    log(`  service: ${serviceUpload.mibPerSecond} MiB/s, growth ${serviceUpload.growthMiB} MiB`);
    await rm(path.join(workDir, 'upload-service-data'), { recursive: true, force: true });
    const bareUpload = await bareUploadMemory(workDir);
    log(`  bare node:http: ${bareUpload.mibPerSecond} MiB/s, growth ${bareUpload.growthMiB} MiB`);

    log(`live push benchmark: 200 jobs with 500 other idle event streams open:`);
    const live = await liveBenchmark(log);

    const transcode = reportTranscode(runs, log);
    const upload = reportUpload(serviceUpload, bareUpload, log);
    log('');
    log('Live push (issue 3)');
    log(`  job completion → notification.created at a subscribed client, over ${live.jobs} jobs: median ${live.latencyMedianMs} ms, p99 ${live.latencyP99Ms} ms`);
    log(`  memory per idle event stream: service ${live.serviceKiBPerStream} KiB, bare Node SSE server ${live.bareKiBPerStream} KiB (ratio ${live.perStreamRatio})`);
    const totalSeconds = round((performance.now() - started) / 1000, 1);
    log('');
    log(`total bench time: ${totalSeconds} s`);
    const loadAverageAtStart = round(loadAtStart, 2);
    const summary = { bench: 'reprise', node: process.version, cores: os.availableParallelism(), loadAverageAtStart, rounds: ROUNDS, transcode, upload, live, totalSeconds };
    console.log(JSON.stringify(summary));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  killLiveChildren();
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
