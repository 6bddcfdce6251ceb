import { segmentKey } from '../../jobs/definitions.ts';
import type { Preset } from '../../media/presets.ts';
import type { LoudnessAnalysis, ProbeResult, TrimRange } from '../../media/types.ts';
import type { Deps, FileRecord, TranscodeJob } from '../ports.ts';
import { partsQueuedAtStart, planParts } from './plan.ts';

/**
 * Plans a long input into parts and enqueues one `segment` job per part, with the plan, in one
 * transaction that first re-asserts (and locks) the file as running: a cancel either happens
 * before (nothing is enqueued) or after (and then finds the parts to drop). False: the file moved on.
 */
export async function startSegmented(
  deps: Deps,
  file: FileRecord,
  job: TranscodeJob,
  opts: { probe: ProbeResult; presets: readonly Preset[]; analysis: LoudnessAnalysis | undefined; progress: number; trim?: TrimRange },
): Promise<boolean> {
  const plan = planParts(opts.probe, opts.presets, deps.config.segmentMinSeconds, opts.analysis, opts.trim);
  const started = await deps.store.transaction(async (tx) => {
    const ours = await tx.files.update(file.id, { progress: opts.progress, updated_at: deps.now() }, { generation: job.generation, statusIn: ['running'] });
    if (!ours) return false;
    await tx.segmentRuns.create({ fileId: file.id, generation: job.generation, plan, createdAt: deps.now() });
    // Parts wait in the fair queue like the transcode they belong to, and count as its user's.
    const priority = Math.max(0, (await tx.files.countActiveForUser(file.user_id)) - 1);
    for (const part of partsQueuedAtStart(plan)) {
      const payload = { fileId: file.id, generation: job.generation, part };
      await tx.jobs.enqueue({ name: 'segment', payload }, { key: segmentKey(payload), priority, owner: file.user_id });
    }
    return true;
  });
  if (started) {
    // `layout` names each part (by its index in the queue payload) for the segmented benches' per-part costs.
    const layout = plan.parts.map((p) => ('segment' in p ? { kind: p.kind, presetId: p.presetId, index: p.segment.index, encodeFrom: p.segment.encodeFrom, encodeTo: p.segment.encodeTo ?? null } : p));
    deps.log.info({ fileId: file.id, generation: job.generation, parts: plan.parts.length, onePass: plan.onePass, layout }, 'transcode split into parts');
  }
  return started;
}
