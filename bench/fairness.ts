import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { apiJson, multipartBody, postStream, signUpAndLogIn, watchCompletions } from './http.ts';
import { generatedWav } from './input.ts';
import { freePort, startNodeChild } from './proc.ts';
import { serviceEnv } from './service.ts';
import { isRecord, median, round, sleep } from './util.ts';

/** 30 s of 44.1 kHz stereo: a job of about a second or two, so 100 of them are a real backlog. */
const INPUT_BYTES = 30 * 44_100 * 4;
const BACKLOG = 100;
export const SLOTS = 2;
const JOB_TIMEOUT_MS = 5 * 60_000;

export interface FairnessRun {
  /** One job's length alone on the idle service: upload answered → completed. */
  jobMs: number[];
  /** B's one job, uploaded behind A's backlog: upload answered → running. */
  waitMs: number[];
  loadAverages: string[];
}

const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');

async function upload(port: number, token: string, presets: string): Promise<{ id: string; respondedAt: number }> {
  const posted = await postStream(port, '/api/v1/files', multipartBody({ presets }, generatedWav(INPUT_BYTES)), { authorization: `Bearer ${token}` }, JOB_TIMEOUT_MS);
  const id = isRecord(posted.body) ? posted.body.id : undefined;
  if (posted.status !== 201 || typeof id !== 'string') throw new Error(`upload failed with ${posted.status}`);
  return { id, respondedAt: posted.respondedAt };
}

/** Polls one file until it runs: the moment its job is claimed is what fairness is about. */
async function runningAt(port: number, token: string, id: string): Promise<number> {
  const deadline = performance.now() + JOB_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const file = await apiJson(port, 'GET', `/files/${id}`, { token, expect: 200 });
    if (file.status !== 'queued') return performance.now();
    await sleep(25);
  }
  throw new Error(`file ${id} never left the queue`);
}

/**
 * Issue 13's fairness figure: user A enqueues 100 jobs, then user B one; B's wait until its job
 * starts, as a multiple of one job's length (goal ≤ 1.0). Embedded mode, 2 slots, one preset.
 */
export async function fairnessBenchmark(workDir: string, rounds: number, log: (line: string) => void): Promise<FairnessRun> {
  const dataDir = path.join(workDir, 'fairness-service-data');
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const child = await startNodeChild(`service (WORKER_CONCURRENCY=${SLOTS})`, 'src/main.ts', ['serve'], { ...serviceEnv(dataDir, port, SLOTS), API_RATE_LIMIT: '0' }, port);
  try {
    return await fairnessRounds(port, rounds, log);
  } finally {
    await child.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The measured rounds against a running service on `port` (whichever mode it runs in). */
export async function fairnessRounds(port: number, rounds: number, log: (line: string) => void): Promise<FairnessRun> {
  const run: FairnessRun = { jobMs: [], waitMs: [], loadAverages: [] };
  for (let r = 0; r < rounds; r++) {
    const [a, b] = [await signUpAndLogIn(port), await signUpAndLogIn(port)];
    const events = await watchCompletions(port, b);
    try {
      const alone = await upload(port, b, 'mp3-192k');
      run.jobMs.push((await events.completedAt(alone.id, JOB_TIMEOUT_MS)) - alone.respondedAt);
      const backlog: string[] = [];
      for (let i = 0; i < BACKLOG; i++) backlog.push((await upload(port, a, 'mp3-192k')).id);
      const late = await upload(port, b, 'mp3-192k');
      run.waitMs.push((await runningAt(port, b, late.id)) - late.respondedAt);
      await events.completedAt(late.id, JOB_TIMEOUT_MS);
      // A's backlog has made its point: deleting it keeps the bench short.
      for (let i = 0; i < backlog.length; i += 100) await apiJson(port, 'POST', '/files/delete', { token: a, body: { ids: backlog.slice(i, i + 100) }, expect: 200 });
    } finally {
      events.close();
    }
    run.loadAverages.push(loadavg());
    log(`  round ${r + 1}: one job alone ${Math.round(run.jobMs.at(-1) ?? 0)} ms; B waited ${Math.round(run.waitMs.at(-1) ?? 0)} ms behind A's ${BACKLOG} (load ${run.loadAverages.at(-1)})`);
  }
  return run;
}

export function reportFairness(run: FairnessRun, log: (line: string) => void, mode = 'embedded') {
  const job = median(run.jobMs);
  const wait = median(run.waitMs);
  const ratio = round(wait / job, 3);
  log('');
  log(`Fairness (issue 13, ${mode}): B's wait behind A's ${BACKLOG} queued jobs ÷ one job's length, ${SLOTS} slots (goal ≤ 1.0)`);
  log(`  one job: median ${Math.round(job)} ms; B's wait: median ${Math.round(wait)} ms; ratio ${ratio} (max ${round(Math.max(...run.waitMs) / job, 3)})`);
  log(`  load average after each round (1/5/15 min): ${run.loadAverages.join('; ')}`);
  return { jobMs: Math.round(job), waitMs: Math.round(wait), ratio, ratios: run.waitMs.map((w) => round(w / job, 3)), loadAverages: run.loadAverages };
}
