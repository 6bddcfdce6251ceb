/**
 * What a part pays in scale-out before its ffmpeg starts: the whole input downloaded from the
 * bucket into scratch (BlobStore.openLocal, as every part does today), timed from this process
 * against the same s3rver and bucket the cluster uses.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createS3BlobStore } from '../src/blobs/s3.ts';
import { round } from './util.ts';

export interface S3Download {
  bytes: number;
  ms: number[];
  /** Seconds per minute of stereo 44.1 kHz 16-bit input (10.6 MB), from the median. */
  secondsPerInputMinute: number;
}

export async function timeInputDownload(env: Record<string, string>, inputPath: string, workDir: string, times = 2): Promise<S3Download> {
  const bucket = env.S3_BUCKET;
  if (!bucket) throw new Error('the cluster has no S3 bucket');
  const client = new S3Client({
    region: env.AWS_REGION ?? 'us-east-1',
    endpoint: env.S3_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const blobs = createS3BlobStore(client, bucket);
  const key = 'bench/segmented-input.wav';
  const scratch = await mkdtemp(path.join(workDir, 's3-download-'));
  try {
    const { size: bytes } = await stat(inputPath);
    await blobs.put(key, createReadStream(inputPath));
    const ms: number[] = [];
    for (let i = 0; i < times; i++) {
      const started = performance.now();
      const local = await blobs.openLocal(key, scratch);
      ms.push(Math.round(performance.now() - started));
      await local.release();
    }
    await blobs.deletePrefix(key);
    const sorted = [...ms].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
    return { bytes, ms, secondsPerInputMinute: round(median / 1000 / (bytes / (44_100 * 4 * 60)), 4) };
  } finally {
    client.destroy();
    await rm(scratch, { recursive: true, force: true });
  }
}
