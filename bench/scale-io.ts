/** Scale-out scenarios 3 and 4: a 1 GiB upload into S3 through a web process, and cross-process live latency. */
import { performance } from 'node:perf_hooks';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createS3Client } from '../src/blobs/s3.ts';
import { signUpAndLogIn } from './http.ts';
import { diskFile, generatedWav } from './input.ts';
import { ensureTiny, openEvents, percentile, uploadWith } from './scale-client.ts';
import { Cluster, type Backends } from './scale.ts';
import { isRecord, median, MiB, readRssKiB, round, RssSampler, sleep } from './util.ts';

type Log = (line: string) => void;

const GiB = 1024 * MiB;

/** The size of the bucket's object for a file (its key holds the file id), or null. */
async function objectBytes(env: Readonly<Record<string, string>>, fileId: string): Promise<number | null> {
  const bucket = env.S3_BUCKET;
  if (!bucket) return null;
  const client = createS3Client({ bucket, endpoint: env.S3_ENDPOINT, forcePathStyle: true });
  try {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    return listed.Contents?.find((o) => o.Key?.includes(fileId))?.Size ?? null;
  } finally {
    client.destroy();
  }
}

export interface S3UploadResult {
  bodyBytes: number;
  seconds: number;
  mibPerSecond: number;
  baselineMiB: number;
  /** The higher of the 20 ms samples and the kernel's peak mark (VmHWM) over the upload. */
  peakMiB: number;
  sampledPeakMiB: number;
  kernelPeakMiB: number | null;
  growthMiB: number;
  samples: number;
  maxSampleGapMs: number;
  /** The WAV's size, the size the service recorded for it, and the size of its object in the bucket. */
  fileBytes: number;
  recordedBytes: number | null;
  objectBytes: number | null;
}

/**
 * One web process (WORKER_CONCURRENCY=0) and no worker at all, so nothing transcodes. A 1 MiB
 * warm-up upload, a settle, the baseline RSS, then the 1 GiB upload with the RSS sampled every
 * 20 ms (RssSampler, as bench/memory.ts does) until the response.
 */
export async function s3UploadScenario(backends: Backends, log: Log): Promise<S3UploadResult> {
  const { cluster } = await Cluster.create('upload', backends);
  try {
    const web = await cluster.startWeb('web');
    const token = await signUpAndLogIn(web.port);
    await uploadWith(web.port, token, generatedWav(MiB), {}, 60_000);
    await sleep(500);
    const baseline = readRssKiB(web.pid);
    const sampler = new RssSampler(web.pid, 20);
    sampler.start();
    let stats;
    let result;
    try {
      result = await uploadWith(web.port, token, generatedWav(GiB), {}, 5 * 60_000);
    } finally {
      stats = sampler.stop();
    }
    const seconds = (result.respondedAt - result.startedAt) / 1000;
    const peakKiB = Math.max(stats.peakKiB, stats.kernelPeakKiB ?? 0);
    const input = isRecord(result.body) && isRecord(result.body.input) ? result.body.input : {};
    const out: S3UploadResult = {
      bodyBytes: result.bodyBytes,
      seconds: round(seconds, 2),
      mibPerSecond: round(result.bodyBytes / MiB / seconds, 1),
      baselineMiB: round(baseline / 1024, 1),
      peakMiB: round(peakKiB / 1024, 1),
      sampledPeakMiB: round(stats.peakKiB / 1024, 1),
      kernelPeakMiB: stats.kernelPeakKiB === null ? null : round(stats.kernelPeakKiB / 1024, 1),
      growthMiB: round(Math.max(0, peakKiB - baseline) / 1024, 1),
      samples: stats.samples,
      maxSampleGapMs: stats.maxGapMs,
      fileBytes: generatedWav(GiB).size,
      recordedBytes: typeof input.size === 'number' ? input.size : null,
      objectBytes: await objectBytes(cluster.env, result.id),
    };
    log(`  file ${out.fileBytes} bytes, recorded ${out.recordedBytes}, object in the bucket ${out.objectBytes}`);
    log(`  ${round(out.bodyBytes / MiB)} MiB in ${out.seconds} s = ${out.mibPerSecond} MiB/s; RSS ${out.baselineMiB} → ${out.peakMiB} MiB (growth ${out.growthMiB} MiB)`);
    return out;
  } finally {
    await cluster.stop();
  }
}

export interface LiveResult {
  jobs: number;
  received: number;
  missed: number;
  /** notification.createdAt → arrival at the client on web A's event stream. */
  latencyMedianMs: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  /** Upload answered by web B → notification on web A. */
  roundTripMedianMs: number;
  /** Upload answered by web B → the worker's "job started" line (read here from its stdout). */
  pickupMedianMs: number;
  pickupP99Ms: number;
  /** The worker's "job started" → "job finished" lines. */
  jobMedianMs: number;
  uploadsViaSecondWeb: boolean;
  seconds: number;
}

const LIVE_JOBS = 200;
const LIVE_WAIT_MS = 30_000;

/**
 * Web A holds an event stream; uploads go to web B; one worker process with two slots runs the
 * jobs (0.5 s WAV → wav-44k-16), two at a time. Latency: the notification's createdAt (set in the
 * worker process) to the event's arrival here, through PostgreSQL NOTIFY and web A.
 */
export async function liveScenario(backends: Backends, log: Log): Promise<LiveResult> {
  const tiny = await diskFile(await ensureTiny(), 'audio/wav');
  const { cluster } = await Cluster.create('live', backends);
  try {
    const webA = await cluster.startWeb('web A');
    const webB = await cluster.startWeb('web B');
    const worker = await cluster.startWorker('worker', 2);
    const token = await signUpAndLogIn(webB.port);
    const latencies: number[] = [];
    const roundTrips: number[] = [];
    const accepted = new Map<string, number>();
    const arrived = new Map<string, (at: number) => void>();
    const early = new Map<string, number>();
    const stream = await openEvents(webA.port, token, (type, data, at) => {
      if (type !== 'notification.created') return;
      const n: unknown = JSON.parse(data);
      if (typeof n !== 'object' || n === null || !('fileId' in n) || !('createdAt' in n)) return;
      if (typeof n.fileId !== 'string' || typeof n.createdAt !== 'string') return;
      latencies.push(at - Date.parse(n.createdAt));
      const waiter = arrived.get(n.fileId);
      if (waiter) waiter(at);
      else early.set(n.fileId, at);
    });
    let missed = 0;
    const started = performance.now();
    try {
      await sleep(500);
      const one = async () => {
        const up = await uploadWith(webB.port, token, tiny, { presets: 'wav-44k-16' }, 30_000);
        const acceptedAt = Date.now();
        accepted.set(up.id, performance.now());
        const at = await new Promise<number | undefined>((resolve) => {
          const seen = early.get(up.id);
          if (seen !== undefined) return resolve(seen);
          const timer = setTimeout(() => resolve(undefined), LIVE_WAIT_MS);
          arrived.set(up.id, (when) => {
            clearTimeout(timer);
            resolve(when);
          });
        });
        arrived.delete(up.id);
        if (at === undefined) missed += 1;
        else roundTrips.push(at - acceptedAt);
      };
      for (let i = 0; i < LIVE_JOBS; i += 2) {
        await Promise.all([one(), one()]);
        if (missed > 5) throw new Error(`${missed} notifications did not arrive within ${LIVE_WAIT_MS / 1000} s`);
        if ((i + 2) % 50 === 0) log(`  ${i + 2}/${LIVE_JOBS} jobs`);
      }
    } finally {
      stream.close();
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const lineAt = (msg: string, id: string) => worker.lines.find((l) => l.msg === msg && l.fileId === id)?.at;
    const pickups: number[] = [];
    const runs: number[] = [];
    for (const [id, at] of accepted) {
      const startedAt = lineAt('job started', id);
      const finishedAt = lineAt('job finished', id);
      if (startedAt !== undefined) pickups.push(startedAt - at);
      if (startedAt !== undefined && finishedAt !== undefined) runs.push(finishedAt - startedAt);
    }
    pickups.sort((a, b) => a - b);
    return {
      jobs: LIVE_JOBS,
      received: latencies.length,
      missed,
      latencyMedianMs: median(sorted),
      latencyP99Ms: percentile(sorted, 99),
      latencyMaxMs: sorted[sorted.length - 1] ?? Number.NaN,
      roundTripMedianMs: round(median(roundTrips), 1),
      pickupMedianMs: round(median(pickups), 1),
      pickupP99Ms: round(percentile(pickups, 99), 1),
      jobMedianMs: round(median(runs), 1),
      uploadsViaSecondWeb: webA.port !== webB.port,
      seconds: round((performance.now() - started) / 1000, 1),
    };
  } finally {
    await cluster.stop();
  }
}
