/**
 * `npm run bench`: the service's transcode overhead against bare ffmpeg, its memory while a
 * 1 GiB upload streams in against a bare Node server, live-push latency and memory per idle
 * event stream, webhook latency and a slow receiver's effect on throughput, and a 1 GiB tus
 * upload against multipart; a 1 GiB ZIP download against plain downloads; the metrics hooks'
 * cost per request; job wall time with loudness normalization against without; a second
 * user's wait behind another's 100 queued jobs; 1,000 event streams and 200 uploads at once;
 * fifty 3-minute files at once; one long input segmented over both slots against one bare ffmpeg
 * process (issue 12), embedded and scale-out, with each part's cost; 8 short jobs with and without
 * segmenting; the segment joins in memory against streamed. Prints a table,
 * then one JSON line. `npm run bench -- webhooks resumable` runs only the suites named.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureInputWav } from './input.ts';
import { liveBenchmark } from './live.ts';
import { metricsBenchmark, reportMetrics } from './metrics.ts';
import { loudnessBenchmark, reportLoudness } from './loudness.ts';
import { fairnessBenchmark, reportFairness } from './fairness.ts';
import { fairnessScaleOutBenchmark } from './fairness-scale.ts';
import { loadBenchmark, reportLoad } from './load.ts';
import { batchBenchmark, reportBatch } from './batch.ts';
import { bareUploadMemory, serviceUploadMemory } from './memory.ts';
import { reportTranscode, reportUpload } from './report.ts';
import { reportResumable, resumableBenchmark } from './resumable.ts';
import { transcodeBenchmark } from './transcode.ts';
import { killLiveChildren } from './proc.ts';
import { round } from './util.ts';
import { reportWebhooks, webhookBenchmark } from './webhooks.ts';
import { reportSegmented, segmentedBenchmark } from './segmented.ts';
import { reportSegmentJoins, segmentJoinsBenchmark } from './segment-joins.ts';
import { reportSegmentedBatch, segmentedBatchBenchmark } from './segmented-batch.ts';
import { jobCostBenchmark, reportJobCost } from './job-cost.ts';
import { segmentedScaleOutBenchmark } from './segmented-scale.ts';
import { reportZip, zipBenchmark } from './zip.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const log = (line: string) => console.log(line);
const SUITES = ['transcode', 'upload', 'live', 'webhooks', 'resumable', 'zip', 'metrics', 'loudness', 'segmented', 'segmented-scale-out', 'segmented-batch', 'joins', 'fairness', 'fairness-scale-out', 'load', 'batch', 'job-cost'] as const;
type Suite = (typeof SUITES)[number];
const isSuite = (name: string): name is Suite => (SUITES as readonly string[]).includes(name);
/** The 1, 5 and 15 minute load averages: the figures are ratios, but a busy machine still skews them. */
const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');

/** The suites named on the command line (all when none is), in their usual order. */
function chosenSuites(args: readonly string[]): Set<Suite> {
  const unknown = args.filter((a) => !isSuite(a));
  if (unknown.length > 0) throw new Error(`unknown suite ${unknown.join(', ')}; choose from ${SUITES.join(', ')}`);
  return new Set(args.length === 0 ? SUITES : args.filter(isSuite));
}

async function main(): Promise<void> {
  if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 20) throw new Error('BENCH_ROUNDS must be 1..20');
  const suites = chosenSuites(process.argv.slice(2));
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
    log(`suites: ${[...suites].join(', ')}; load average (1/5/15 min) ${loadavg()}`);
    if (loadAtStart > 0.5) log('  warning: the machine is already busy; timings will be noisy');
    const summary: Record<string, unknown> = { bench: 'reprise', node: process.version, cores: os.availableParallelism(), loadAverageAtStart: round(loadAtStart, 2), rounds: ROUNDS, suites: [...suites] };
    const reports: (() => void)[] = [];

    if (suites.has('transcode')) {
      const input = await ensureInputWav();
      log(`input: ${input}`);
      log(`transcode benchmark, ${ROUNDS} rounds of (a) (b) (c), order rotated each round:`);
      const runs = await transcodeBenchmark(input, workDir, ROUNDS, log);
      reports.push(() => (summary.transcode = reportTranscode(runs, log)));
    }

    if (suites.has('upload')) {
      log('upload memory benchmark:');
      const serviceUpload = await serviceUploadMemory(workDir);
      log(`  service: ${serviceUpload.mibPerSecond} MiB/s, growth ${serviceUpload.growthMiB} MiB`);
      await rm(path.join(workDir, 'upload-service-data'), { recursive: true, force: true });
      const bareUpload = await bareUploadMemory(workDir);
      log(`  bare node:http: ${bareUpload.mibPerSecond} MiB/s, growth ${bareUpload.growthMiB} MiB`);
      reports.push(() => (summary.upload = reportUpload(serviceUpload, bareUpload, log)));
    }

    if (suites.has('live')) {
      log(`live push benchmark: 200 jobs with 500 other idle event streams open:`);
      const live = await liveBenchmark(log);
      reports.push(() => {
        summary.live = live;
        log('');
        log('Live push (issue 3)');
        log(`  job completion → notification.created at a subscribed client, over ${live.jobs} jobs: median ${live.latencyMedianMs} ms, p99 ${live.latencyP99Ms} ms`);
        log(`  memory per idle event stream: service ${live.serviceKiBPerStream} KiB, bare Node SSE server ${live.bareKiBPerStream} KiB (ratio ${live.perStreamRatio})`);
      });
    }

    if (suites.has('webhooks')) {
      log(`webhook benchmark (load ${loadavg()}):`);
      const webhooks = await webhookBenchmark(log);
      reports.push(() => (summary.webhooks = reportWebhooks(webhooks, log)));
    }

    if (suites.has('resumable')) {
      log(`resumable upload benchmark (load ${loadavg()}):`);
      const resumable = await resumableBenchmark(workDir, log);
      reports.push(() => (summary.resumable = reportResumable(resumable, log)));
    }

    if (suites.has('zip')) {
      log(`ZIP download benchmark, ${ROUNDS} rounds (load ${loadavg()}):`);
      const zip = await zipBenchmark(workDir, ROUNDS, log);
      reports.push(() => (summary.zip = reportZip(zip, log)));
    }

    if (suites.has('metrics')) {
      log(`metrics hooks benchmark (load ${loadavg()}):`);
      const metrics = await metricsBenchmark(log);
      reports.push(() => (summary.metrics = reportMetrics(metrics, log)));
    }

    if (suites.has('fairness')) {
      log(`fairness benchmark, ${ROUNDS} rounds (load ${loadavg()}):`);
      const fairness = await fairnessBenchmark(workDir, ROUNDS, log);
      reports.push(() => (summary.fairness = reportFairness(fairness, log)));
    }

    if (suites.has('fairness-scale-out')) {
      log(`fairness benchmark, scale-out (PostgreSQL + S3, two one-slot worker processes), ${ROUNDS} rounds (load ${loadavg()}):`);
      const fairness = await fairnessScaleOutBenchmark(ROUNDS, log);
      reports.push(() => (summary.fairnessScaleOut = reportFairness(fairness, log, 'scale-out')));
    }

    if (suites.has('load')) {
      log(`hostile load benchmark (load ${loadavg()}):`);
      const load = await loadBenchmark(workDir, log);
      reports.push(() => (summary.load = reportLoad(load, log)));
    }

    if (suites.has('batch')) {
      log(`batch benchmark (load ${loadavg()}):`);
      const batch = await batchBenchmark(workDir, log);
      reports.push(() => (summary.batch = reportBatch(batch, log)));
    }

    if (suites.has('loudness')) {
      const input = await ensureInputWav();
      log(`loudness benchmark, ${ROUNDS} rounds of off, podcast, streaming, broadcast (order rotated), input ${input} (load ${loadavg()}):`);
      const loudness = await loudnessBenchmark(input, workDir, ROUNDS, log);
      reports.push(() => (summary.loudness = reportLoudness(loudness, log)));
    }

    if (suites.has('joins')) {
      log(`segment joins benchmark, ${ROUNDS} rounds of in-memory and streamed joins (load ${loadavg()}):`);
      const joins = await segmentJoinsBenchmark(workDir, ROUNDS, log);
      reports.push(() => (summary.joins = reportSegmentJoins(joins, log)));
    }

    if (suites.has('segmented')) {
      log(`segmented transcoding benchmark, ${ROUNDS} rounds of bare and service (load ${loadavg()}):`);
      const segmented = await segmentedBenchmark(workDir, ROUNDS, log);
      reports.push(() => (summary.segmented = reportSegmented(segmented, log)));
    }

    if (suites.has('segmented-scale-out')) {
      log(`segmented transcoding benchmark, scale-out (PostgreSQL + S3, two one-slot worker processes), ${ROUNDS} rounds of bare and service (load ${loadavg()}):`);
      const segmented = await segmentedScaleOutBenchmark(workDir, ROUNDS, log);
      reports.push(() => (summary.segmentedScaleOut = reportSegmented(segmented, log, 0.65)));
    }

    if (suites.has('job-cost')) {
      log(`fixed cost of a job, scale-out (PostgreSQL + S3, one worker process of one slot) (load ${loadavg()}):`);
      const cost = await jobCostBenchmark(workDir, log);
      reports.push(() => {
        reportJobCost(cost, log);
        summary.jobCost = cost;
      });
    }
    if (suites.has('segmented-batch')) {
      log(`segmented batch benchmark, ${ROUNDS} rounds of three SEGMENT_MIN_SECONDS settings (load ${loadavg()}):`);
      const batch = await segmentedBatchBenchmark(workDir, ROUNDS, log);
      reports.push(() => (summary.segmentedBatch = reportSegmentedBatch(batch, log)));
    }

    for (const report of reports) report();
    const totalSeconds = round((performance.now() - started) / 1000, 1);
    log('');
    log(`total bench time: ${totalSeconds} s; load average (1/5/15 min) at the end ${loadavg()}`);
    summary.loadAverageAtEnd = os.loadavg().map((l) => round(l, 2));
    summary.totalSeconds = totalSeconds;
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
