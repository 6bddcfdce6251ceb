/**
 * Issue 9: a 1 GiB tus upload sent by tus-js-client (as a Node client would send it) against a
 * plain multipart POST /api/v1/files of the same file to the same service in the same run:
 * throughput ratio, and the service's RSS growth while each upload streams in.
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { DefaultHttpStack, Upload, type HttpStack } from 'tus-js-client';
import { apiJson, signUpAndLogIn } from './http.ts';
import { diskFile, generatedWav } from './input.ts';
import { freePort, startNodeChild, type Child } from './proc.ts';
import { uploadWith } from './scale-client.ts';
import { serviceEnv } from './service.ts';
import { MiB, readRssKiB, round, RssSampler, sleep } from './util.ts';

const GiB = 1024 * MiB;
const SAMPLE_MS = 20;
const TIMEOUT_MS = 10 * 60_000;
const TARGET_RATIO = 0.8;
const TARGET_GROWTH_MIB = 64;

const METHODS = ['multipart', 'tus, 64 MiB chunks', 'tus, one PATCH'] as const;
type Method = (typeof METHODS)[number];

export interface ResumableRun {
  method: Method;
  seconds: number;
  mibPerSecond: number;
  /** For tus: from the last byte sent to the final answer (the service probes and stores the upload then). */
  finishSeconds: number | null;
  baselineMiB: number;
  peakMiB: number;
  growthMiB: number;
  samples: number;
  maxSampleGapMs: number;
}

/**
 * The bytes to send, written once so that every method reads the same file (from the page cache
 * after the first read): a real WAV, 1 GiB of 44.1 kHz stereo PCM (1.7 h), so the probe that ends
 * both kinds of upload accepts it. The generator repeats one noisy block: no ffmpeg run needed.
 */
async function writeWav(dir: string, dataBytes: number): Promise<string> {
  const file = generatedWav(dataBytes);
  const out = path.join(dir, file.filename);
  await pipeline(Readable.from(file.content()), createWriteStream(out));
  return out;
}

/**
 * tus-js-client's own Node stack, noting when each request body has been read to its end (handed
 * to the socket): its progress callback is throttled and may only report the total after the answer.
 */
function timedStack(onBodyEnd: (at: number) => void): HttpStack {
  const inner = new DefaultHttpStack({});
  return {
    getName: () => inner.getName(),
    createRequest(method, url) {
      const req = inner.createRequest(method, url);
      const send = req.send.bind(req);
      req.send = (body: unknown) => {
        if (body instanceof Readable) body.once('end', () => onBodyEnd(performance.now()));
        return send(body);
      };
      return req;
    },
  };
}

/** One tus upload of a file on disk; resolves with the file id and when the last byte went out. */
function tusUpload(port: number, token: string, filePath: string, chunkSize: number): Promise<{ fileId: string; lastByteAt: number }> {
  return new Promise((resolve, reject) => {
    let lastByteAt = Number.NaN;
    const upload = new Upload(createReadStream(filePath), {
      endpoint: `http://127.0.0.1:${port}/api/v1/uploads`,
      headers: { authorization: `Bearer ${token}` },
      metadata: { filename: path.basename(filePath) },
      chunkSize,
      httpStack: timedStack((at) => (lastByteAt = at)),
      // A failed request fails the bench rather than being resent and timed as if nothing happened.
      retryDelays: null,
      onSuccess: ({ lastResponse }) => {
        const fileId = lastResponse.getHeader('reprise-file-id');
        if (fileId) resolve({ fileId, lastByteAt });
        else reject(new Error(`the last tus answer (${lastResponse.getStatus()}) has no Reprise-File-Id: ${lastResponse.getBody().slice(0, 300)}`));
      },
      onError: reject,
    });
    upload.start();
  });
}

/** Sends the file one way; the file id and, for tus, when the last byte was sent. */
async function send(method: Method, child: Child, token: string, filePath: string) {
  if (method === 'multipart') {
    const { id } = await uploadWith(child.port, token, await diskFile(filePath, 'audio/wav'), {}, TIMEOUT_MS);
    return { fileId: id, lastByteAt: undefined };
  }
  return tusUpload(child.port, token, filePath, method === 'tus, one PATCH' ? Number.POSITIVE_INFINITY : 64 * MiB);
}

/** One upload with the service's RSS sampled every 20 ms and its kernel peak mark (VmHWM) reset at the baseline. */
async function measure(method: Method, child: Child, token: string, filePath: string): Promise<ResumableRun> {
  const { size } = await stat(filePath);
  // Dirty pages of the input or of the previous upload would be written back during this one.
  await promisify(execFile)('sync');
  await sleep(500);
  const baseline = readRssKiB(child.pid);
  const sampler = new RssSampler(child.pid, SAMPLE_MS);
  sampler.start();
  const started = performance.now();
  let sent;
  let rss;
  try {
    sent = await send(method, child, token, filePath);
  } finally {
    rss = sampler.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const finishSeconds = sent.lastByteAt === undefined ? null : round(seconds - (sent.lastByteAt - started) / 1000, 2);
  // No job slots, so the file just waits queued; removing it keeps the disk from filling up.
  await apiJson(child.port, 'DELETE', `/files/${sent.fileId}`, { token, expect: 204 });
  const peakKiB = Math.max(rss.peakKiB, rss.kernelPeakKiB ?? 0);
  return {
    method,
    seconds: round(seconds, 2),
    mibPerSecond: round(size / MiB / seconds, 1),
    finishSeconds,
    baselineMiB: round(baseline / 1024, 1),
    peakMiB: round(peakKiB / 1024, 1),
    growthMiB: round(Math.max(0, peakKiB - baseline) / 1024, 1),
    samples: rss.samples,
    maxSampleGapMs: rss.maxGapMs,
  };
}

export interface ResumableResults {
  bytes: number;
  runs: ResumableRun[];
}

/**
 * The service with no job slots (nothing but the uploads runs), limits raised past the file.
 * Each method runs twice, the second round in reverse order, so page cache and disk write-back
 * favour none of them.
 */
export async function resumableBenchmark(workDir: string, log: (line: string) => void): Promise<ResumableResults> {
  const dir = path.join(workDir, 'resumable');
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...serviceEnv(path.join(dir, 'data'), port, 0), MAX_UPLOAD_BYTES: String(4 * GiB), MAX_INPUT_SECONDS: String(24 * 3600) };
  // serviceEnv keeps these if the shell has them; this measures the embedded default on disk.
  for (const name of ['DATABASE_URL', 'S3_BUCKET', 'S3_ENDPOINT']) delete env[name];
  const child = await startNodeChild('service (WORKER_CONCURRENCY=0)', 'src/main.ts', ['serve'], env, port);
  try {
    const token = await signUpAndLogIn(port);
    const small = await writeWav(dir, MiB);
    const big = await writeWav(dir, GiB);
    // A small upload each way first, so lazily loaded code is in place for every method alike.
    for (const method of METHODS) await send(method, child, token, small);
    const runs: ResumableRun[] = [];
    for (const method of [...METHODS, ...[...METHODS].reverse()]) {
      const run = await measure(method, child, token, big);
      log(`  ${method}: ${run.mibPerSecond} MiB/s, growth ${run.growthMiB} MiB`);
      runs.push(run);
    }
    return { bytes: (await stat(big)).size, runs };
  } finally {
    await child.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

/** Prints the table in the style of report.ts; returns the numbers for the JSON line. */
export function reportResumable(r: ResumableResults, log: (line: string) => void) {
  const of = (method: Method) => r.runs.filter((run) => run.method === method);
  // Two runs each: their mean is their median.
  const mean = (method: Method, pick: (run: ResumableRun) => number) => of(method).reduce((a, run) => a + pick(run), 0) / Math.max(of(method).length, 1);
  const maxGrowth = (method: Method) => Math.max(...of(method).map((run) => run.growthMiB));
  log('');
  log(`Resumable upload (issue 9): ${(r.bytes / GiB).toFixed(3)} GiB WAV, the same file each way, service with no job slots; RSS sampled every 20 ms`);
  log(`  ${'method'.padEnd(22)}${'MiB/s'.padStart(8)}${'time'.padStart(10)}${'finish'.padStart(10)}${'baseline'.padStart(12)}${'peak'.padStart(10)}${'growth'.padStart(10)}${'samples'.padStart(9)}${'max gap'.padStart(9)}`);
  for (const m of r.runs) {
    log(
      `  ${m.method.padEnd(22)}${m.mibPerSecond.toFixed(1).padStart(8)}${`${m.seconds.toFixed(2)} s`.padStart(10)}` +
        `${(m.finishSeconds === null ? '-' : `${m.finishSeconds.toFixed(2)} s`).padStart(10)}${`${m.baselineMiB.toFixed(1)} MiB`.padStart(12)}` +
        `${`${m.peakMiB.toFixed(1)} MiB`.padStart(10)}${`${m.growthMiB.toFixed(1)} MiB`.padStart(10)}${String(m.samples).padStart(9)}${`${m.maxSampleGapMs} ms`.padStart(9)}`,
    );
  }
  log('  (finish = last byte sent -> final tus answer: the service copies the upload into storage and probes it)');
  const multipart = mean('multipart', (run) => run.mibPerSecond);
  const tus = METHODS.filter((m) => m !== 'multipart').map((method) => {
    const ratio = round(mean(method, (run) => run.mibPerSecond) / multipart, 3);
    const growthMiB = maxGrowth(method);
    // Diagnostic: the same ratio with the finish (storing and probing after the last byte) left out.
    const bodyOnly = round(mean(method, (run) => r.bytes / MiB / (run.seconds - (run.finishSeconds ?? 0))) / multipart, 3);
    return { method, mibPerSecond: round(mean(method, (run) => run.mibPerSecond), 1), ratio, bodyOnly, growthMiB, pass: { ratio: ratio >= TARGET_RATIO, growth: growthMiB <= TARGET_GROWTH_MIB } };
  });
  for (const t of tus) {
    log(`  ${t.method}: throughput / multipart = ${t.ratio.toFixed(3)} (target >= ${TARGET_RATIO})  ${verdict(t.pass.ratio)};  ` +
      `peak growth ${t.growthMiB.toFixed(1)} MiB (target <= ${TARGET_GROWTH_MIB} MiB)  ${verdict(t.pass.growth)};  without the finish: ${t.bodyOnly.toFixed(3)}`);
  }
  log(`  multipart: ${round(multipart, 1)} MiB/s, peak growth ${maxGrowth('multipart').toFixed(1)} MiB (baseline)`);
  return { bytes: r.bytes, runs: r.runs, multipartMiBPerSecond: round(multipart, 1), tus };
}
