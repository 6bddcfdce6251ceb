import type { Deps, FileRecord, TranscodeJob } from '../ports.ts';
import { failJob } from '../transcode-finish.ts';
import { dropQueuedParts, removeSegmentScratch } from './cleanup.ts';

/** After this many tries, a part that keeps breaking for reasons other than the media fails its file. */
export const MAX_PART_ATTEMPTS = 3;

/**
 * Fails a segmented transcode: the file (one notification, one webhook), its parts not yet
 * started, its scratch. Parts still running see the file failed at their next progress report.
 */
export async function failSegmented(deps: Deps, file: FileRecord, job: TranscodeJob, reason: string, startedAt: number): Promise<'failed' | 'canceled'> {
  const outcome = await failJob(deps, file, job, reason);
  await deps.store.transaction((tx) => dropQueuedParts(tx, file.id, job.generation));
  await removeSegmentScratch(deps, file.id, job.generation);
  if (outcome === 'failed') deps.metrics.jobEnded(file.presets, 'failed', (deps.now() - startedAt) / 1000);
  return outcome;
}
