import { segmentJoinKey, segmentKey } from '../../jobs/definitions.ts';
import { segmentScratchPrefix } from '../blob-keys.ts';
import type { Deps, Store } from '../ports.ts';

/**
 * Drops a generation's parts that have not started, and its join, inside the caller's transaction
 * (a cancel). Running parts notice the file is no longer running at their next progress report.
 */
export async function dropQueuedParts(tx: Store, fileId: string, generation: number): Promise<void> {
  const run = await tx.segmentRuns.find(fileId, generation);
  if (!run) return;
  for (let part = 0; part < run.plan.parts.length; part++) await tx.jobs.removeQueued(segmentKey({ fileId, generation, part }));
  await tx.jobs.removeQueued(segmentJoinKey({ fileId, generation }));
}

/**
 * Removes a segmented transcode's scratch from blob storage and forgets its bookkeeping: after
 * the join, a failure, a cancel or the file's deletion. Without a generation, every generation's.
 * A part still uploading when this runs removes its own upload once it sees the file moved on.
 */
export async function removeSegmentScratch(deps: Pick<Deps, 'blobs' | 'store' | 'log'>, fileId: string, generation?: number): Promise<void> {
  await deps.store.segmentRuns.remove(fileId, generation);
  // A part may be writing into the folder while it is removed (on disk, rm then fails with
  // ENOTEMPTY): try again, and that part removes its own upload once it sees the file moved on.
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.blobs.deletePrefix(segmentScratchPrefix(fileId, generation));
    } catch (err) {
      if (attempt >= 3) return deps.log.warn({ err, fileId }, 'could not remove segment scratch');
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
