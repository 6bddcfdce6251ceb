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
export async function removeSegmentScratch(deps: Pick<Deps, 'blobs' | 'store'>, fileId: string, generation?: number): Promise<void> {
  await deps.blobs.deletePrefix(segmentScratchPrefix(fileId, generation));
  await deps.store.segmentRuns.remove(fileId, generation);
}
