/**
 * Issue 9 webhook benchmarks, each against a baseline in the same run:
 * (1) job completion → signed webhook at a loopback receiver, against the same completion's SSE
 *     event (another channel for the same moment);
 * (2) transcode throughput while a receiver takes 10 s to answer, against a fast receiver.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { apiJson, signUpAndLogIn } from './http.ts';
import { diskFile } from './input.ts';
import { freePort, startNodeChild, type Child } from './proc.ts';
import { ensureExcerpt, percentile, uploadWith } from './scale-client.ts';
import { serviceEnv } from './service.ts';
import { Arrivals, watchFileEnds } from './sse.ts';
import { median, readCpuMs, round, sleep } from './util.ts';

const LATENCY_JOBS = 200;
const TARGET_P99_MS = 200;
const THROUGHPUT_JOBS = 8;
const SLOW_ANSWER_MS = 10_000;
/** Slow/fast wall time within 5 %: the same bar report.ts sets for the service's own overhead. */
const TARGET_SLOW_RATIO = 1.05;

interface Delivery {
  /** Date.now() once the whole request body was in: when a receiver could act on it. */
  at: number;
  /** The payload's `timestamp`: when the service recorded the completion (ms precision, same clock). */
  recordedAt: number;
}

/**
 * A receiver on loopback in the bench process. Every request is verified with the
 * standardwebhooks package (an implementation that is not the service's) and counted by webhook-id,
 * so a retry shows as a duplicate; the answer (204) waits `delayMs`.
 */
class Receiver {
  readonly byFile = new Arrivals<Delivery>();
  readonly seen = new Set<string>();
  received = 0;
  duplicates = 0;
  badSignatures = 0;
  /** Requests received and not answered yet. */
  open = 0;
  delayMs = 0;
  verifier: Webhook | undefined;
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      this.open += 1;
      this.note(Buffer.concat(chunks).toString('utf8'), req.headers, at);
      setTimeout(() => {
        this.open -= 1;
        res.writeHead(204).end();
      }, this.delayMs);
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook`;
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }

  /** Resolves once every request received so far has been answered. */
  async drained(): Promise<void> {
    while (this.open > 0) await sleep(50);
  }

  private note(body: string, headers: http.IncomingHttpHeaders, at: number): void {
    this.received += 1;
    const header = (name: string) => String(headers[name] ?? '');
    const id = header('webhook-id');
    if (this.seen.has(id)) this.duplicates += 1;
    this.seen.add(id);
    try {
      if (!this.verifier) throw new Error('no secret yet');
      this.verifier.verify(body, { 'webhook-id': id, 'webhook-timestamp': header('webhook-timestamp'), 'webhook-signature': header('webhook-signature') });
    } catch {
      this.badSignatures += 1;
      return;
    }
    const payload = JSON.parse(body) as { type?: string; timestamp?: string; data?: { id?: string } };
    if (payload.type === 'file.completed' && payload.data?.id) this.byFile.put(payload.data.id, { at, recordedAt: Date.parse(payload.timestamp ?? '') });
  }
}

/** The embedded default (SQLite, in-process queue), loopback receivers allowed, default webhook settings. */
async function startService(dataDir: string): Promise<Child> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...serviceEnv(dataDir, port, 2), LOGIN_RATE_LIMIT: '100000', SIGNUP_RATE_LIMIT: '100000', API_RATE_LIMIT: '1000000', WEBHOOK_ALLOW_PRIVATE: 'true' };
  // serviceEnv keeps these if the shell has them; the bench measures the defaults.
  for (const name of ['DATABASE_URL', 'S3_BUCKET', 'S3_ENDPOINT', 'WEBHOOK_RETRY_SCHEDULE', 'WEBHOOK_CONCURRENCY', 'WEBHOOK_TIMEOUT_SECONDS']) delete env[name];
  return startNodeChild('service', 'src/main.ts', ['serve'], env, port);
}

/** A user with one endpoint at the receiver, and that user's completions as seen on its event stream. */
async function subscribe(port: number, receiver: Receiver) {
  const token = await signUpAndLogIn(port);
  const endpoint = await apiJson(port, 'POST', '/webhooks', { token, body: { url: await receiver.listen() }, expect: 201 });
  if (typeof endpoint.secret !== 'string') throw new Error('POST /webhooks returned no secret');
  receiver.verifier = new Webhook(endpoint.secret);
  const endpointId = String(endpoint.id);
  const files = await watchFileEnds(port, token);
  /** When the job ended, as seen on the stream; throws unless it completed. */
  const completed = async (id: string, timeoutMs: number) => {
    const event = await files.ended.wait(id, timeoutMs, 'the end of the job');
    if (event.status !== 'completed') throw new Error(`job ${id} ended ${event.status}`);
    return event;
  };
  return { token, endpointId, completed, stream: files };
}

/** The service's own delivery log, once nothing is pending: how many succeeded at the first attempt. */
async function deliveryLog(port: number, token: string, endpointId: string) {
  for (let tries = 0; ; tries++) {
    const { deliveries } = await apiJson(port, 'GET', `/webhooks/${endpointId}/deliveries`, { token, expect: 200 });
    const rows = (Array.isArray(deliveries) ? deliveries : []) as { state: string; attempts: number }[];
    if (tries >= 100 || !rows.some((d) => d.state === 'pending')) {
      return { logged: rows.length, succeededFirstAttempt: rows.filter((d) => d.state === 'succeeded' && d.attempts === 1).length };
    }
    await sleep(100);
  }
}

const counts = (r: Receiver) => ({ received: r.received, distinct: r.seen.size, duplicates: r.duplicates, badSignatures: r.badSignatures });
const stats = (ms: readonly number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { medianMs: round(median(sorted), 1), p99Ms: round(percentile(sorted, 99), 1), maxMs: round(sorted.at(-1) ?? Number.NaN, 1) };
};

/** (1) 200 one-second WAVs to mp3-128k, two at a time (both job slots busy), each waited for on both channels. */
async function latency(workDir: string) {
  const wav = path.join(workDir, 'one-second.wav');
  await promisify(execFile)('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-ac', '2', wav]);
  const service = await startService(path.join(workDir, 'latency-data'));
  const receiver = new Receiver();
  try {
    const { token, completed, stream } = await subscribe(service.port, receiver);
    const file = await diskFile(wav, 'audio/wav');
    const webhook: number[] = [];
    const sse: number[] = [];
    const webhookMinusSse: number[] = [];
    for (let i = 0; i < LATENCY_JOBS; i += 2) {
      await Promise.all([0, 1].map(async () => {
        const { id } = await uploadWith(service.port, token, file, { presets: 'mp3-128k' }, 30_000);
        const [event, hook] = await Promise.all([completed(id, 30_000), receiver.byFile.wait(id, 30_000, 'webhook')]);
        webhook.push(hook.at - hook.recordedAt);
        sse.push(event.at - hook.recordedAt);
        webhookMinusSse.push(hook.at - event.at);
      }));
    }
    await sleep(2000); // room for a late duplicate to show
    stream.close();
    const result = { jobs: webhook.length, webhook: stats(webhook), sse: stats(sse), webhookMinusSse: stats(webhookMinusSse), ...counts(receiver) };
    return { ...result, medianRatio: round(result.webhook.medianMs / Math.max(result.sse.medianMs, 0.1), 2), pass: result.webhook.p99Ms <= TARGET_P99_MS };
  } finally {
    receiver.close();
    await service.stop();
  }
}

/**
 * (2) 8 × 60 s to aac-256k on 2 job slots, the receiver answering at once or after 10 s, in the
 * order ABBA BAAB so that drift in the machine's load cancels out. Each phase starts once the
 * previous one's deliveries have all been answered.
 */
async function slowReceiver(workDir: string) {
  const service = await startService(path.join(workDir, 'slow-data'));
  const receiver = new Receiver();
  try {
    const { token, endpointId, completed, stream } = await subscribe(service.port, receiver);
    const file = await diskFile(await ensureExcerpt(60), 'audio/wav');
    const phase = async (delayMs: number) => {
      receiver.delayMs = delayMs;
      const cpuBefore = readCpuMs(service.pid).children;
      const started = performance.now();
      const ids: string[] = [];
      for (let i = 0; i < THROUGHPUT_JOBS; i++) ids.push((await uploadWith(service.port, token, file, { presets: 'aac-256k' }, 60_000)).id);
      const done = await Promise.all(ids.map((id) => completed(id, 10 * 60_000)));
      const wallMs = round(Math.max(...done.map((e) => e.mono)) - started, 1);
      // Deliveries the receiver was still sitting on when the last job finished: proof they overlapped.
      const heldOpenAtEnd = receiver.open;
      // ffmpeg's CPU time (reaped by the service): steadier than wall time on a busy machine.
      const ffmpegCpuMs = round(readCpuMs(service.pid).children - cpuBefore, 0);
      await Promise.all(ids.map((id) => receiver.byFile.wait(id, 60_000, 'webhook')));
      await receiver.drained();
      return { delayMs, wallMs, ffmpegCpuMs, heldOpenAtEnd };
    };
    const runs: Awaited<ReturnType<typeof phase>>[] = [];
    for (const slow of [0, 1, 1, 0, 1, 0, 0, 1]) runs.push(await phase(slow * SLOW_ANSWER_MS));
    const log = await deliveryLog(service.port, token, endpointId);
    stream.close();
    const sum = (delayMs: number, pick: (r: (typeof runs)[number]) => number) => runs.filter((r) => r.delayMs === delayMs).reduce((a, r) => a + pick(r), 0);
    const ratio = round(sum(SLOW_ANSWER_MS, (r) => r.wallMs) / sum(0, (r) => r.wallMs), 3);
    const ok = ratio <= TARGET_SLOW_RATIO && receiver.duplicates === 0 && log.succeededFirstAttempt === runs.length * THROUGHPUT_JOBS;
    return { jobsPerPhase: THROUGHPUT_JOBS, runs, slowOverFast: ratio, cpuSlowOverFast: round(sum(SLOW_ANSWER_MS, (r) => r.ffmpegCpuMs) / sum(0, (r) => r.ffmpegCpuMs), 3), ...counts(receiver), ...log, pass: ok };
  } finally {
    receiver.close();
    await service.stop();
  }
}

export type WebhookResults = { latency: Awaited<ReturnType<typeof latency>>; slowReceiver: Awaited<ReturnType<typeof slowReceiver>> };

export async function webhookBenchmark(log: (line: string) => void): Promise<WebhookResults> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'reprise-bench-webhooks-'));
  try {
    log(`  latency: ${LATENCY_JOBS} jobs (1 s WAV -> mp3-128k), two at a time`);
    const lat = await latency(workDir);
    log(`  slow receiver: ${THROUGHPUT_JOBS} x 60 s -> aac-256k per phase, receiver answering at once / after ${SLOW_ANSWER_MS / 1000} s`);
    const slow = await slowReceiver(workDir);
    return { latency: lat, slowReceiver: slow };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Prints the webhook tables in the style of report.ts; returns the numbers for the JSON line. */
export function reportWebhooks(r: WebhookResults, log: (line: string) => void): WebhookResults {
  const { latency: l, slowReceiver: s } = r;
  const row = (label: string, m: ReturnType<typeof stats>) =>
    log(`  ${label.padEnd(52)}${`${m.medianMs} ms`.padStart(10)}${`${m.p99Ms} ms`.padStart(10)}${`${m.maxMs} ms`.padStart(10)}`);
  log('');
  log(`Webhook latency (issue 9): ${l.jobs} jobs on the embedded default; t0 = the payload's timestamp (recorded in the completion transaction)`);
  log(`  ${'measurement'.padEnd(52)}${'median'.padStart(10)}${'p99'.padStart(10)}${'max'.padStart(10)}`);
  row('webhook at the loopback receiver - t0', l.webhook);
  row('baseline: file.updated "completed" over SSE - t0', l.sse);
  row('webhook - SSE, per job', l.webhookMinusSse);
  log(`  webhook p99 = ${l.webhook.p99Ms} ms (target <= ${TARGET_P99_MS} ms)  ${verdict(l.pass)};  median webhook / SSE = ${l.medianRatio}`);
  log(`  requests ${l.received}, distinct webhook-ids ${l.distinct}, duplicates ${l.duplicates}, failed standardwebhooks verification ${l.badSignatures}`);
  log('');
  log(`Slow receiver (issue 9): ${s.jobsPerPhase} x 60 s WAV -> aac-256k, WORKER_CONCURRENCY=2, WEBHOOK_TIMEOUT_SECONDS=15; upload start -> last "completed"`);
  for (const run of s.runs) {
    const label = run.delayMs === 0 ? 'fast receiver' : `receiver answering after ${run.delayMs / 1000} s`;
    log(`  ${label.padEnd(52)}${secs(run.wallMs).padStart(10)}   ffmpeg CPU ${secs(run.ffmpegCpuMs)}, deliveries held open at the end: ${run.heldOpenAtEnd}`);
  }
  log(`  slow / fast wall (sums) = ${s.slowOverFast.toFixed(3)} (target <= ${TARGET_SLOW_RATIO}), ffmpeg CPU ${s.cpuSlowOverFast.toFixed(3)}; ` +
    `all deliveries succeeded at the first attempt, no duplicates: ${s.succeededFirstAttempt}/${s.logged} logged  ${verdict(s.pass)}`);
  log(`  requests ${s.received}, distinct webhook-ids ${s.distinct}, duplicates ${s.duplicates}, failed verification ${s.badSignatures}`);
  return r;
}
