/**
 * `node --import tsx bench/cancel-latency.ts [trials]`: issue 12 asks that cancelling a split job
 * stops every segment everywhere within 2 s. On one PostgreSQL and s3rver, a web process and two
 * one-slot workers, a 10-minute input is split; when both workers run an ffmpeg for one of its
 * parts, the owner cancels. The bench watches /proc every 20 ms: the figure is the time from
 * sending the cancel to the last ffmpeg of either worker gone. Then it watches 3 s more, so a
 * part that starts after the cancel is seen too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { apiJson, signUpAndLogIn } from './http.ts';
import { diskFile, ensureInputWav } from './input.ts';
import { uploadWith } from './scale-client.ts';
import { Cluster, startBackends, stopEverything, type Backends } from './scale.ts';
import type { WorkerProc } from './scale-worker.ts';
import { round, sleep } from './util.ts';

const log = (line: string) => console.log(line);
const GOAL_SECONDS = 2;
const POLL_MS = 20;

/** The pids of ffmpeg processes in the workers' process groups (each worker leads its own). */
function ffmpegOf(workers: readonly WorkerProc[]): number[] {
  const groups = new Set(workers.map((w) => w.pid));
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces: state, ppid, pgrp.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || !groups.has(Number(fields[2]))) continue;
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg.endsWith('ffmpeg'))) found.push(pid);
    } catch {
      // gone between the listing and the read
    }
  }
  return found;
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

interface Trial {
  /** Sending the cancel → the last ffmpeg of a part gone. */
  stoppedSeconds: number;
  /** Sending the cancel → its response. */
  answeredSeconds: number;
  ffmpegAtCancel: number;
  /** Any ffmpeg of the workers seen in the 3 s after they had all stopped. */
  startedAfter: number;
  status: string;
}

async function trial(port: number, token: string, workers: readonly WorkerProc[], input: string): Promise<Trial> {
  const { id } = await uploadWith(port, token, await diskFile(input, 'audio/wav'), { presets: 'aac-256k,mp3-320k,opus-96k' }, 120_000);
  // Both workers on a part of this file, well into it (a part may end while we wait: look again).
  const bothBusy = () => (workers.every((w) => ffmpegOf([w]).length > 0) ? true : undefined);
  await until('an ffmpeg in each worker', 120_000, bothBusy);
  await sleep(1500);
  await until('an ffmpeg in each worker', 30_000, bothBusy);
  const running = ffmpegOf(workers);
  const sent = performance.now();
  const answer = apiJson(port, 'POST', `/files/${id}/cancel`, { token, expect: 200 }).then(() => performance.now());
  await until('every ffmpeg gone', 30_000, () => (ffmpegOf(workers).length === 0 ? true : undefined));
  const stopped = performance.now();
  const answered = await answer;
  let startedAfter = 0;
  for (const end = performance.now() + 3000; performance.now() < end; await sleep(POLL_MS)) startedAfter = Math.max(startedAfter, ffmpegOf(workers).length);
  const file = await apiJson(port, 'GET', `/files/${id}`, { token, expect: 200 });
  return {
    stoppedSeconds: round((stopped - sent) / 1000, 2),
    answeredSeconds: round((answered - sent) / 1000, 2),
    ffmpegAtCancel: running.length,
    startedAfter,
    status: String(file.status),
  };
}

async function runTrials(backends: Backends, trials: number): Promise<Trial[]> {
  const input = await ensureInputWav();
  const { cluster } = await Cluster.create('cancel', backends);
  try {
    const web = await cluster.startWeb('web');
    const token = await signUpAndLogIn(web.port);
    const workers = [await cluster.startWorker('worker 1', 1), await cluster.startWorker('worker 2', 1)];
    const results: Trial[] = [];
    for (let i = 1; i <= trials; i++) {
      const t = await trial(web.port, token, workers, input);
      log(`trial ${i}: ${t.ffmpegAtCancel} ffmpeg running; cancel answered in ${t.answeredSeconds} s, every ffmpeg gone after ${t.stoppedSeconds} s; ${t.startedAfter} started in the 3 s after; file ${t.status}`);
      results.push(t);
    }
    return results;
  } finally {
    await cluster.stop();
  }
}

async function main(): Promise<void> {
  const trials = Number(process.argv[2] ?? 5);
  if (!Number.isInteger(trials) || trials < 1 || trials > 50) throw new Error('trials must be 1..50');
  const loadBefore = os.loadavg()[0]!.toFixed(2);
  const backends = await startBackends();
  let results: Trial[];
  try {
    results = await runTrials(backends, trials);
  } finally {
    await backends.stop();
  }
  const stopped = results.map((r) => r.stoppedSeconds);
  const worst = Math.max(...stopped);
  const clean = results.every((r) => r.startedAfter === 0 && r.status === 'canceled');
  log('');
  log(`cancel → every segment stopped (s): ${stopped.join(', ')}; max ${worst} (goal ≤ ${GOAL_SECONDS}: ${worst <= GOAL_SECONDS ? 'met' : 'MISSED'})`);
  log(`nothing started after, every file canceled: ${clean ? 'yes' : 'NO'}; load ${loadBefore} → ${os.loadavg()[0]!.toFixed(2)}`);
  log(JSON.stringify({ bench: 'cancel-latency', trials, stoppedSeconds: stopped, maxSeconds: worst, clean, results }));
  if (!clean) process.exitCode = 1;
}

main().catch(async (err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  await stopEverything(20_000);
  process.exit(1);
});
