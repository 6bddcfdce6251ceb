import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { multipartBody, postStream, signUpAndLogIn } from './http.ts';
import { generatedWav } from './input.ts';
import { serviceEnv } from './service.ts';
import { freePort, startNodeChild, type Child } from './proc.ts';
import { MiB, readRssKiB, round, RssSampler, sleep } from './util.ts';

const GiB = 1024 * MiB;
const SAMPLE_MS = 20;
const UPLOAD_TIMEOUT_MS = 5 * 60_000;

export interface UploadMemory {
  server: string;
  bodyBytes: number;
  seconds: number;
  mibPerSecond: number;
  baselineMiB: number;
  /** The higher of the sampled peak and the kernel's peak mark (VmHWM) over the upload. */
  peakMiB: number;
  sampledPeakMiB: number;
  kernelPeakMiB: number | null;
  growthMiB: number;
  samples: number;
  maxSampleGapMs: number;
}

interface Target {
  child: Child;
  urlPath: string;
  headers: Record<string, string>;
}

async function upload(target: Target, dataBytes: number) {
  const body = multipartBody({}, generatedWav(dataBytes));
  const result = await postStream(target.child.port, target.urlPath, body, target.headers, UPLOAD_TIMEOUT_MS);
  if (result.status !== 201) throw new Error(`upload answered ${result.status}: ${JSON.stringify(result.body).slice(0, 300)}`);
  return { ...result, bodyBytes: body.length };
}

/**
 * One small upload first (so lazily loaded code is in place on both servers alike), a short
 * settle, the baseline, then the 1 GiB upload with the RSS sampled every 20 ms until the response.
 * The kernel's peak mark (VmHWM, reset at the baseline) backs the samples up between ticks.
 */
async function measure(name: string, target: Target): Promise<UploadMemory> {
  await upload(target, MiB);
  await sleep(500);
  const baseline = readRssKiB(target.child.pid);
  const sampler = new RssSampler(target.child.pid, SAMPLE_MS);
  sampler.start();
  let stats;
  let result;
  try {
    result = await upload(target, GiB);
  } finally {
    stats = sampler.stop();
  }
  const seconds = (result.respondedAt - result.startedAt) / 1000;
  const peakKiB = Math.max(stats.peakKiB, stats.kernelPeakKiB ?? 0);
  return {
    server: name,
    bodyBytes: result.bodyBytes,
    seconds: round(seconds),
    mibPerSecond: round(result.bodyBytes / MiB / seconds, 1),
    baselineMiB: round(baseline / 1024, 1),
    peakMiB: round(peakKiB / 1024, 1),
    sampledPeakMiB: round(stats.peakKiB / 1024, 1),
    kernelPeakMiB: stats.kernelPeakKiB === null ? null : round(stats.kernelPeakKiB / 1024, 1),
    growthMiB: round(Math.max(0, peakKiB - baseline) / 1024, 1),
    samples: stats.samples,
    maxSampleGapMs: stats.maxGapMs,
  };
}

/** The service with no job slots (nothing transcodes), default MAX_UPLOAD_BYTES. */
export async function serviceUploadMemory(workDir: string): Promise<UploadMemory> {
  const port = await freePort();
  const env = serviceEnv(path.join(workDir, 'upload-service-data'), port, 0);
  const child = await startNodeChild('service (WORKER_CONCURRENCY=0)', 'src/main.ts', ['serve'], env, port);
  try {
    const token = await signUpAndLogIn(port);
    return await measure('service', { child, urlPath: '/api/v1/files', headers: { authorization: `Bearer ${token}` } });
  } finally {
    await child.stop();
  }
}

/** A bare node:http server piping the body to a file: what streaming costs with no framework. */
export async function bareUploadMemory(workDir: string): Promise<UploadMemory> {
  const port = await freePort();
  const dir = path.join(workDir, 'upload-bare-data');
  await mkdir(dir, { recursive: true });
  const child = await startNodeChild('bare node server', 'bench/bare-server.ts', [], { ...process.env, PORT: String(port), BARE_DIR: dir }, port);
  try {
    return await measure('bare node:http', { child, urlPath: '/upload', headers: {} });
  } finally {
    await child.stop();
  }
}
