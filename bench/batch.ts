import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { multipartBody, postStream, signUpAndLogIn, watchCompletions } from './http.ts';
import { generatedWav } from './input.ts';
import { freePort, startNodeChild } from './proc.ts';
import { serviceEnv } from './service.ts';
import { isRecord, round } from './util.ts';

const FILES = Number(process.env.BENCH_BATCH_FILES ?? 50);
/** Three minutes of CD audio (about 30 MiB), as issue 10 asks. */
const INPUT_BYTES = 180 * 44_100 * 4;
const SLOTS = 2;
const TIMEOUT_MS = 60 * 60_000;

export interface BatchRun {
  singleMs: number;
  batchMs: number;
  loadBefore: string;
  loadAfter: string;
}

const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');

async function upload(port: number, token: string): Promise<{ id: string; respondedAt: number; startedAt: number }> {
  const posted = await postStream(port, '/api/v1/files', multipartBody({}, generatedWav(INPUT_BYTES)), { authorization: `Bearer ${token}` }, TIMEOUT_MS);
  const id = isRecord(posted.body) ? posted.body.id : undefined;
  if (posted.status !== 201 || typeof id !== 'string') throw new Error(`upload failed with ${posted.status}`);
  return { id, respondedAt: posted.respondedAt, startedAt: posted.startedAt };
}

/**
 * Issue 10's batch figure: fifty 3-minute files sent at once (default presets), time from the
 * first byte sent until every job has completed, as a ratio to one such file's time alone (send
 * to completed) × 50 ÷ the worker slots. Below 1: the batch overlaps uploads with transcoding;
 * above: it costs more than its parts. Uploads go through POST /api/v1/files, as the batch page
 * does where tus is not available.
 */
export async function batchBenchmark(workDir: string, log: (line: string) => void): Promise<BatchRun> {
  const dataDir = path.join(workDir, 'batch-service-data');
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const child = await startNodeChild(`service (WORKER_CONCURRENCY=${SLOTS})`, 'src/main.ts', ['serve'], { ...serviceEnv(dataDir, port, SLOTS), API_RATE_LIMIT: '0' }, port);
  try {
    const token = await signUpAndLogIn(port);
    const events = await watchCompletions(port, token);
    try {
      const loadBefore = loadavg();
      const alone = await upload(port, token);
      const singleMs = (await events.completedAt(alone.id, TIMEOUT_MS)) - alone.startedAt;
      log(`  one 3-minute file alone: ${Math.round(singleMs)} ms from first byte to completed`);
      const sent = await Promise.all(Array.from({ length: FILES }, () => upload(port, token)));
      const firstByte = Math.min(...sent.map((s) => s.startedAt));
      const done = await Promise.all(sent.map((s) => events.completedAt(s.id, TIMEOUT_MS)));
      const batchMs = Math.max(...done) - firstByte;
      log(`  ${FILES} at once: all completed after ${Math.round(batchMs)} ms`);
      return { singleMs, batchMs, loadBefore, loadAfter: loadavg() };
    } finally {
      events.close();
    }
  } finally {
    await child.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export function reportBatch(run: BatchRun, log: (line: string) => void) {
  const expected = (run.singleMs * FILES) / SLOTS;
  const ratio = round(run.batchMs / expected, 3);
  log('');
  log(`Batch (issue 10): ${FILES} three-minute files at once, ${SLOTS} slots, default presets`);
  log(`  all done after ${Math.round(run.batchMs / 1000)} s; one alone ${Math.round(run.singleMs / 1000)} s × ${FILES} ÷ ${SLOTS} = ${Math.round(expected / 1000)} s; ratio ${ratio}`);
  log(`  load average (1/5/15 min) before ${run.loadBefore}, after ${run.loadAfter}`);
  return { files: FILES, slots: SLOTS, singleMs: Math.round(run.singleMs), batchMs: Math.round(run.batchMs), ratio, loadBefore: run.loadBefore, loadAfter: run.loadAfter };
}
