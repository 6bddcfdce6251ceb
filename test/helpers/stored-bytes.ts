import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createS3Client } from '../../src/blobs/s3.ts';

export interface HeldBytes {
  /** Where they are: bucket keys, or paths under DATA_DIR. */
  places: string[];
  bytes: number;
}

/**
 * Every file under `dir` (recursively) whose path mentions `needle`, with their sizes added up.
 * Walked folder by folder, so that an entry vanishing meanwhile (scratch, locks) skips only itself.
 */
async function onDisk(dir: string, needle: string, into: HeldBytes = { places: [], bytes: 0 }): Promise<HeldBytes> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      await onDisk(full, needle, into);
    } else if (full.includes(needle)) {
      const size = await stat(full).then((s) => s.size, () => undefined);
      if (size === undefined) continue;
      into.places.push(full);
      into.bytes += size;
    }
  }
  return into;
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
