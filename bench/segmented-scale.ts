/**
 * Issue 12's scale-out figure: the same long input and presets as bench/segmented.ts, against a
 * fresh PostgreSQL database and S3 bucket, one web process (no slots) and two worker processes
 * of one slot each — each its own process group with its own DATA_DIR, as bench/scale.ts starts
 * them — beside one bare ffmpeg process, the order alternated each round.
 *
 * One slot per worker: this machine has 2 cores, so two workers of one slot are its 2 slots, as
 * in the embedded run; two slots each would put 4 encoders on 2 cores and measure oversubscription.
 * Parts reach a worker through graphile-worker and read the input from the bucket, so the split's
 * scale-out costs (download per part, upload of each part's encode, the join's downloads) are in.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { signUpAndLogIn } from './http.ts';
import { Cluster, startBackends } from './scale.ts';
import type { WorkerProc } from './scale-worker.ts';
import { settledPartCosts } from './segmented-parts.ts';
import { timeInputDownload, type S3Download } from './segmented-s3.ts';
import { alternateRounds, bareOnce, longInput, PRESET_IDS, serviceOnce, type SegmentedRuns } from './segmented.ts';
import { round } from './util.ts';

const WORKERS = 2;
const SLOTS_PER_WORKER = 1;

export async function segmentedScaleOutBenchmark(workDir: string, rounds: number, log: (line: string) => void): Promise<SegmentedRuns & { inputDownload?: S3Download }> {
  const loadBefore = os.loadavg().map((l) => round(l, 2));
  const input = await longInput();
  const runs: SegmentedRuns & { inputDownload?: S3Download } = { mode: 'scale-out', inputMinutes: input.minutes, presets: PRESET_IDS, slots: WORKERS * SLOTS_PER_WORKER, bareMs: [], serviceMs: [], ratio: 0, loadBefore, loadAfter: [], parts: [] };
  const backends = await startBackends();
  try {
    const { cluster } = await Cluster.create('segmented', backends);
    try {
      const web = await cluster.startWeb('web');
      const workers: WorkerProc[] = [];
      for (let i = 0; i < WORKERS; i++) workers.push(await cluster.startWorker(`worker ${i + 1}`, SLOTS_PER_WORKER, 60_000, { SEGMENT_MIN_SECONDS: '300' }));
      log(`  PostgreSQL + s3rver on loopback, web process + ${WORKERS} worker processes × ${SLOTS_PER_WORKER} slot`);
      const token = await signUpAndLogIn(web.port);
      const costsOf = (fileId: string) => settledPartCosts(() => Promise.resolve(workers.flatMap((w) => w.lines.map((l) => l.fields))), fileId, input.probe.durationMs / 1000);
      await alternateRounds(runs, rounds, () => bareOnce(input, workDir), () => serviceOnce(web.port, token, input), costsOf, log);
      // The workers' own log lines, for a closer look at a part than the table gives.
      if (process.env.BENCH_LOG_DUMP) await writeFile(process.env.BENCH_LOG_DUMP, workers.flatMap((w) => w.lines.map((l) => `${JSON.stringify({ worker: w.name, ...l.fields })}\n`)).join(''));
      // Once the rounds are over, so it competes with nothing of this bench.
      runs.inputDownload = await timeInputDownload(cluster.env, input.path, workDir);
      log(`  the input from the bucket into scratch, as each part fetches it: ${runs.inputDownload.ms.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s for ${Math.round(runs.inputDownload.bytes / 1e6)} MB (load ${os.loadavg()[0]?.toFixed(2)})`);
    } finally {
      await cluster.stop();
    }
  } finally {
    await backends.stop();
  }
  runs.loadAfter = os.loadavg().map((l) => round(l, 2));
  return runs;
}
