import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createS3Client } from '../../src/blobs/s3.ts';

export interface HeldBytes {
  /** Where they are: bucket keys, or paths under DATA_DIR. */
  places: string[];
  bytes: number;
}

/** Every file under `dir` (recursively) whose path mentions `needle`, with their sizes added up. */
async function onDisk(dir: string, needle: string): Promise<HeldBytes> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const places: string[] = [];
  let bytes = 0;
  for (const e of entries) {
    const full = path.join(e.parentPath, e.name);
    if (e.isDirectory() || !full.includes(needle)) continue;
    places.push(full);
    bytes += (await stat(full).catch(() => ({ size: 0 }))).size;
  }
  return { places, bytes };
}

/**
 * The bytes a server holds for one file, wherever it keeps them: under DATA_DIR (blobs, scratch,
 * unfinished uploads) and, with S3, in the bucket (every page of the listing).
 */
export async function bytesHeldFor(env: Record<string, string | undefined>, dataDir: string, fileId: string): Promise<HeldBytes> {
  const local = await onDisk(dataDir, fileId);
  if (!env.S3_BUCKET) return local;
  const client = createS3Client({ bucket: env.S3_BUCKET, endpoint: env.S3_ENDPOINT, forcePathStyle: true });
  let token: string | undefined;
  const held = { places: [...local.places], bytes: local.bytes };
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: env.S3_BUCKET, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (!o.Key?.includes(fileId)) continue;
      held.places.push(o.Key);
      held.bytes += o.Size ?? 0;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return held;
}
