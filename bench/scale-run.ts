/**
 * `npm run bench:scale-out`: the scale-out deployment (web and worker processes sharing a
 * PostgreSQL database and an S3 bucket, all on 127.0.0.1) measured four ways: throughput of one
 * worker process against two, recovery from a SIGKILLed worker, memory of a web process while a
 * 1 GiB upload streams into S3, and live-event latency across processes. Prints a table, then one
 * JSON line.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { s3UploadScenario, liveScenario } from './scale-io.ts';
import { throughputScenario } from './scale-jobs.ts';
import { recoveryScenario } from './scale-recovery.ts';
import { serviceWarnings, startBackends, stopEverything } from './scale.ts';
import { round } from './util.ts';

const log = (line: string) => console.log(line);

interface Row {
  metric: string;
  value: string;
  goal: string;
  ok: boolean | null;
}

function table(rows: readonly Row[]): void {
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => [r.metric, r.value, r.goal][i]?.length ?? 0)));
  const cell = (text: string, i: number) => text.padEnd(widths[i] ?? 0);
  log('');
  log(`${cell('metric', 0)}  ${cell('value', 1)}  ${cell('goal', 2)}  result`);
  log(`${'-'.repeat(widths[0] ?? 0)}  ${'-'.repeat(widths[1] ?? 0)}  ${'-'.repeat(widths[2] ?? 0)}  ------`);
  for (const r of rows) log(`${cell(r.metric, 0)}  ${cell(r.value, 1)}  ${cell(r.goal, 2)}  ${r.ok === null ? '' : r.ok ? 'ok' : 'MISSED'}`);
}

async function main(): Promise<void> {
  const started = performance.now();
  let interrupted = false;
  const interrupt = () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: give up on a tidy stop
    interrupted = true;
    log('interrupted: stopping every process this bench started…');
    void stopEverything(20_000).finally(() => process.exit(130));
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  // Anything thrown outside the awaited chain still stops the processes (workers run detached).
  const crash = (err: unknown) => {
    console.error(`unexpected: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void stopEverything(20_000).finally(() => process.exit(1));
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  const loadAtStart = os.loadavg()[0] ?? 0;
  log(`Reprise scale-out bench: node ${process.version}, ${os.availableParallelism()} cores, load ${loadAtStart.toFixed(2)}`);
  if (loadAtStart > 0.5) log('  warning: the machine is already busy; timings will be noisy');
  const backends = await startBackends();
  log(`PostgreSQL ${backends.pgUrl}, s3rver ${backends.s3Endpoint} (own process); a fresh database and bucket per scenario`);
  try {
    log('1. throughput: 8 jobs (90 s stereo WAV → aac-256k) per batch; bare ffmpeg first (the machine\'s ceiling), then batches of 1, 2, 2, 1 one-slot worker processes, uploaded as they run, then queued first');
    const throughput = await throughputScenario(backends, log);
    log('2. recovery: two workers of one slot, the one that starts a 10-minute job is SIGKILLed');
    const recovery = await recoveryScenario(backends, log);
    log('3. 1 GiB upload into S3 through a web process, no workers');
    const upload = await s3UploadScenario(backends, log);
    log('4. live latency: stream on web A, uploads on web B, one worker process of two slots, 200 jobs (0.5 s WAV → wav-44k-16)');
    const live = await liveScenario(backends, log);

    const walls = (mode: string, n: number) =>
      throughput.batches.filter((b) => b.mode === mode && b.workers === n).map((b) => b.wallSeconds).join(', ');
    const q = throughput.queued;
    const pct = (speedUp: number) => round((speedUp / throughput.bare.speedUp) * 100, 0);
    const rows: Row[] = [
      { metric: '1. 8 jobs uploaded as they run, 1 worker (s)', value: `${walls('uploading', 1)} (mean ${throughput.oneWorkerSeconds})`, goal: '', ok: null },
      { metric: '1. 8 jobs uploaded as they run, 2 workers (s)', value: `${walls('uploading', 2)} (mean ${throughput.twoWorkersSeconds})`, goal: '', ok: null },
      { metric: '1. speed-up, uploaded as they run', value: `${throughput.speedUp}×`, goal: '≥ 1.8×', ok: throughput.speedUp >= 1.8 },
      { metric: '1. 8 jobs queued first, 1 worker (s)', value: `${walls('queued', 1)} (mean ${q.oneWorkerSeconds})`, goal: '', ok: null },
      { metric: '1. 8 jobs queued first, 2 workers (s)', value: `${walls('queued', 2)} (mean ${q.twoWorkersSeconds})`, goal: '', ok: null },
      { metric: '1. speed-up, queued first', value: `${q.speedUp}×`, goal: '≥ 1.8×', ok: q.speedUp >= 1.8 },
      { metric: '1. bare ffmpeg, same 8 encodes, 2 at a time', value: `${throughput.bare.speedUp}× (${throughput.bare.oneLaneSeconds.join(', ')} s → ${throughput.bare.twoLanesSeconds.join(', ')} s)`, goal: 'ceiling', ok: null },
      { metric: '1. speed-ups / bare ceiling', value: `${pct(throughput.speedUp)} % uploaded as they run, ${pct(q.speedUp)} % queued`, goal: '', ok: null },
      { metric: '2. SIGKILL → job running again (s)', value: String(recovery.rerunStartedSeconds), goal: '≤ 30 s', ok: recovery.rerunStartedSeconds <= 30 },
      { metric: '2. jobs released by (s after SIGKILL)', value: recovery.releases.map((r) => `${r.by} ${r.afterSeconds}`).join(', ') || 'nobody logged it', goal: '', ok: null },
      { metric: '2. SIGKILL → job completed (s)', value: String(recovery.completedSeconds), goal: '', ok: null },
      { metric: '2. job starts / notifications for the file', value: `${recovery.jobStartsForFile} / ${recovery.notificationsForFile}`, goal: '2 / 1', ok: recovery.jobStartsForFile === 2 && recovery.notificationsForFile === 1 },
      { metric: '3. 1 GiB upload into S3 (MiB/s)', value: String(upload.mibPerSecond), goal: '', ok: null },
      { metric: '3. object in the bucket = the WAV, in bytes', value: String(upload.objectBytes), goal: String(upload.fileBytes), ok: upload.objectBytes === upload.fileBytes },
      { metric: '3. web RSS growth, peak − baseline (MiB)', value: `${upload.growthMiB} (${upload.baselineMiB} → ${upload.peakMiB})`, goal: '≤ 64 MiB', ok: upload.growthMiB <= 64 },
      { metric: '4. createdAt → client, median (ms)', value: String(live.latencyMedianMs), goal: '', ok: null },
      { metric: '4. createdAt → client, p99 (ms)', value: `${live.latencyP99Ms} (max ${live.latencyMaxMs})`, goal: '≤ 100 ms', ok: live.latencyP99Ms <= 100 },
      { metric: '4. upload (web B) → job started, median / p99 (ms)', value: `${live.pickupMedianMs} / ${live.pickupP99Ms}`, goal: '', ok: null },
      { metric: '4. job started → finished, median (ms)', value: String(live.jobMedianMs), goal: '', ok: null },
      { metric: '4. upload (web B) → notification (web A), median (ms)', value: String(live.roundTripMedianMs), goal: '', ok: null },
      { metric: '4. notifications received', value: `${live.received}/${live.jobs}`, goal: `${live.jobs}/${live.jobs}`, ok: live.missed === 0 && live.received === live.jobs },
    ];
    table(rows);
    const disturbed =
      throughput.bare.runs.some((r) => r.otherCores > 0.25 || r.stealCores > 0.1) ||
      throughput.batches.some((b) => (b.cores.other ?? 0) > 0.25 || (b.cores.steal ?? 0) > 0.1);
    if (disturbed) log('note: something outside this bench used the CPU during scenario 1 (see "anything else", "other" and "stolen" above): its speed-ups are unreliable');
    log('');
    log(serviceWarnings.length > 0 ? 'warnings and errors the service logged:' : 'the service logged no warning or error');
    for (const w of serviceWarnings) log(`  ${w}`);
    const totalSeconds = round((performance.now() - started) / 1000, 1);
    log('');
    log(`total bench time: ${totalSeconds} s`);
    const summary = {
      bench: 'reprise-scale-out',
      node: process.version,
      cores: os.availableParallelism(),
      loadAverageAtStart: round(loadAtStart, 2),
      throughput,
      recovery,
      upload,
      live,
      scenario1Disturbed: disturbed,
      serviceWarnings,
      goalsMet: rows.every((r) => r.ok !== false),
      totalSeconds,
    };
    console.log(JSON.stringify(summary));
  } finally {
    if (!interrupted) await stopEverything();
  }
}

main().catch(async (err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
  await stopEverything();
});
