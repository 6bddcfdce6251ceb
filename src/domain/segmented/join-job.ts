import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { JobPayload } from '../../jobs/definitions.ts';
import { MediaError } from '../../media/types.ts';
import { partScratchPrefix } from '../blob-keys.ts';
import type { Deps, FileRecord } from '../ports.ts';
import { filePreset } from '../preset-catalog.ts';
import { joinPresetSegments } from './join-part.ts';
import { completeFile, reportOf, Superseded, type PublishedOutput } from '../transcode-finish.ts';
import { jobScratch, outputKey, type JobOutcome } from '../transcode.ts';
import { removeSegmentScratch } from './cleanup.ts';
import { failSegmented, MAX_PART_ATTEMPTS } from './fail.ts';
import type { SegmentedPlan } from './plan.ts';

/**
 * The end of a segmented transcode, run once every part is done (the join parts included):
 * publishes the joined and the one-pass outputs under the file, reads the peaks from the whole
 * part, completes the file (one notification, one webhook), then removes the scratch. A join
 * that cannot be exact fails the file with the reason; it never ships a seam.
 */
export async function runJoinJob(deps: Deps, payload: JobPayload<'segment.join'>, ctx: { attempt: number }): Promise<JobOutcome> {
  const file = await deps.store.files.findById(payload.fileId);
  if (!file || file.generation !== payload.generation || file.status !== 'running') {
    await removeSegmentScratch(deps, payload.fileId, payload.generation);
    return 'skipped';
  }
  const run = await deps.store.segmentRuns.find(file.id, payload.generation);
  if (!run) return 'skipped';
  const job = { fileId: file.id, generation: payload.generation };
  const scratch = await jobScratch(deps, file.id, 'join-');
  const releases: (() => Promise<void>)[] = [];
  const published: string[] = [];
  const fetch = async (key: string) => {
    const local = await deps.blobs.openLocal(key, scratch);
    releases.push(local.release);
    return local.path;
  };
  try {
    const outputs = await publishOutputs(deps, file, run.plan, scratch, published);
    const wholePart = run.plan.parts.findIndex((p) => p.kind === 'whole');
    const waveform = await deps.media.waveform(await fetch(`${partScratchPrefix(file.id, job.generation, wholePart)}/peaks.u8`));
    const loudnessReport = run.plan.loudness ? reportOf(run.plan.loudness, undefined) : null;
    await completeFile(deps, file, job, { outputs, durationMs: run.plan.probe.durationMs, waveform, loudnessReport });
    deps.metrics.jobEnded(file.presets, 'completed', (deps.now() - run.createdAt) / 1000);
    await removeSegmentScratch(deps, file.id, job.generation);
    return 'completed';
  } catch (err) {
    await Promise.all(published.map((key) => deps.blobs.deletePrefix(key))).catch(() => undefined);
    if (err instanceof Superseded) {
      await removeSegmentScratch(deps, file.id, job.generation);
      return 'canceled';
    }
    if (err instanceof MediaError) return failSegmented(deps, file, job, err.message, run.createdAt);
    if (ctx.attempt < MAX_PART_ATTEMPTS) throw err;
    deps.log.error({ err, fileId: file.id }, 'segment join failed on every attempt');
    return failSegmented(deps, file, job, 'an internal error occurred', run.createdAt);
  } finally {
    for (const release of releases) await release().catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Every output this run made, in the file's order, published under the file: a preset's join
 * part's output, or the whole part's one-pass encode, copied (a link on disk, a server-side copy
 * on S3) so a re-run of this job still finds them. A plan made before join parts existed has its
 * presets joined here. A later run (run_presets) made only its presets; the file's other outputs
 * stay as they are, and the plan has no part for them.
 */
async function publishOutputs(deps: Deps, file: FileRecord, plan: SegmentedPlan, scratch: string, published: string[]): Promise<PublishedOutput[]> {
  const wholePart = plan.parts.findIndex((p) => p.kind === 'whole');
  const presets = (file.run_presets ?? file.presets).flatMap((id) => filePreset(file, id) ?? []);
  // Side by side: nothing else runs for this file now, and the copies wait on the store, not on us.
  const settled = await Promise.allSettled(
    presets.map(async (preset): Promise<PublishedOutput> => {
      const presetId = preset.id;
      const name = `${preset.id}.${preset.extension}`;
      const key = outputKey(file.id, file.generation, preset);
      const joinPart = plan.parts.findIndex((p) => p.kind === 'join' && p.presetId === presetId);
      const segmented = plan.parts.some((p) => p.kind === 'segment' && p.presetId === presetId);
      const startedAt = performance.now();
      published.push(key);
      let size: number;
      if (segmented && joinPart < 0) {
        const joined = await joinPresetSegments(deps, { file, plan, presetId, scratch });
        size = await deps.blobs.putFile(key, joined.path);
      } else {
        size = await deps.blobs.copy(`${partScratchPrefix(file.id, file.generation, segmented ? joinPart : wholePart)}/${name}`, key);
      }
      deps.log.info({ fileId: file.id, presetId, joined: segmented, ms: Math.round(performance.now() - startedAt) }, 'segmented output published');
      return { presetId, key, size };
    }),
  );
  // Every copy settled before a failure is acted on, so none lands after the caller's cleanup.
  return settled.map((s) => {
    if (s.status === 'rejected') throw s.reason;
    return s.value;
  });
}
