import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { segmentJoinKey, segmentKey, type JobPayload } from '../../jobs/definitions.ts';
import { MediaError, type SegmentEncodeResult, type SegmentInput } from '../../media/types.ts';
import { partScratchPrefix } from '../blob-keys.ts';
import type { Deps, FileRecord, Store } from '../ports.ts';
import { filePreset } from '../preset-catalog.ts';
import { jobScratch } from '../transcode.ts';
import { removeSegmentScratch } from './cleanup.ts';
import { failSegmented, MAX_PART_ATTEMPTS } from './fail.ts';
import { joinPresetPart } from './join-part.ts';
import { partInput } from './part-input.ts';
import { presetSegmentsDone, type PartSpec, type SegmentedPlan } from './plan.ts';
import { partProgress } from './progress.ts';

export type PartOutcome = 'done' | 'skipped' | 'canceled' | 'failed';

/** The file whose generation is running, its plan and the part; undefined: nothing to do. */
async function partToRun(deps: Deps, payload: { fileId: string; generation: number }) {
  const file = await deps.store.files.findById(payload.fileId);
  if (!file || file.generation !== payload.generation || file.status !== 'running') {
    // Canceled, failed, deleted or retried: whatever scratch is left for this generation goes.
    await removeSegmentScratch(deps, payload.fileId, payload.generation);
    return undefined;
  }
  const run = await deps.store.segmentRuns.find(file.id, payload.generation);
  return run && { file, run };
}

/**
 * One part of a segmented transcode, on whichever slot or worker took it: the input comes from
 * blob storage, the encode goes back to blob storage under the generation's scratch prefix. A
 * preset's last segment queues that preset's join part; the part that finishes last, as the
 * database decides in one transaction, queues the job that publishes and completes the file.
 */
export async function runSegmentJob(deps: Deps, payload: JobPayload<'segment'>, ctx: { signal: AbortSignal; attempt: number }): Promise<PartOutcome> {
  const found = await partToRun(deps, payload);
  const spec = found?.run.plan.parts[payload.part];
  if (!found || !spec) return 'skipped';
  const { file, run } = found;
  const job = { fileId: file.id, generation: payload.generation };
  const prefix = partScratchPrefix(file.id, job.generation, payload.part);
  const scratch = await jobScratch(deps, file.id, `p${payload.part}-`);
  const abort = new AbortController();
  const forward = () => abort.abort();
  ctx.signal.addEventListener('abort', forward, { once: true });
  try {
    const files =
      spec.kind === 'join'
        ? await joinPresetPart(deps, { file, plan: run.plan, presetId: spec.presetId, scratch })
        : await encodeFromInput(deps, { file, plan: run.plan, spec, scratch, signal: abort.signal, part: payload.part, abort });
    // Side by side (the whole part has the WAV, the FLAC and the peaks), each settling before a
    // failure is acted on, so none lands after the cleanup below removed the part's prefix.
    const storing = performance.now();
    const storingCpu = process.cpuUsage();
    const puts = await Promise.allSettled([...files].map(([name, local]) => deps.blobs.putFile(`${prefix}/${name}`, local)));
    for (const put of puts) if (put.status === 'rejected') throw put.reason;
    deps.log.info({ fileId: file.id, part: payload.part, bytes: puts.reduce((sum, p) => sum + (p.status === 'fulfilled' ? p.value : 0), 0), ms: Math.round(performance.now() - storing), cpuMs: cpuMsSince(storingCpu) }, 'segment part stored');
    const counted = await deps.store.transaction(async (tx) => {
      // Locks the file row: a cancel or another part's failure either came first or waits.
      const ours = await tx.files.update(file.id, { updated_at: deps.now() }, { generation: job.generation, statusIn: ['running'] });
      if (!ours) return 'moved-on' as const;
      const result = await tx.segmentRuns.finishPart(file.id, job.generation, payload.part);
      // Finishing work goes ahead of queued encodes (priority -1): it ends a job someone waits for.
      if (result === 'last') await tx.jobs.enqueue({ name: 'segment.join', payload: job }, { key: segmentJoinKey(job), owner: file.user_id, priority: -1 });
      if (result === 'more' && spec.kind === 'segment') await queueJoinIfReady(tx, run.plan, job, spec.presetId, file.user_id);
      return result;
    });
    if (counted === 'moved-on') {
      await deps.blobs.deletePrefix(prefix);
      return 'canceled';
    }
    return 'done';
  } catch (err) {
    if (abort.signal.aborted) {
      await deps.blobs.deletePrefix(prefix).catch(() => undefined);
      // Our own shutdown: the part is handed back to the queue, not given up.
      if (ctx.signal.aborted) throw err;
      return 'canceled';
    }
    if (err instanceof MediaError) return failSegmented(deps, file, job, err.message, run.createdAt);
    // Storage or database trouble may pass: the queue tries the part again, a few times.
    if (ctx.attempt < MAX_PART_ATTEMPTS) throw err;
    deps.log.error({ err, fileId: file.id, part: payload.part }, 'segment part failed on every attempt');
    return failSegmented(deps, file, job, 'an internal error occurred', run.createdAt);
  } finally {
    ctx.signal.removeEventListener('abort', forward);
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Queues the preset's join part when the part just counted off was its last segment. Runs after
 * the finishing transaction locked the file row, so of two segments finishing together the second
 * sees the first one done: exactly one of them queues the join.
 */
async function queueJoinIfReady(tx: Store, plan: SegmentedPlan, job: { fileId: string; generation: number }, presetId: string, owner: string): Promise<void> {
  const joinPart = plan.parts.findIndex((p) => p.kind === 'join' && p.presetId === presetId);
  if (joinPart < 0 || !presetSegmentsDone(plan, presetId, await tx.segmentRuns.doneParts(job.fileId, job.generation))) return;
  const payload = { ...job, part: joinPart };
  await tx.jobs.enqueue({ name: 'segment', payload }, { key: segmentKey(payload), owner, priority: -1 });
}

/** Gives the part's encode its input (byte ranges, or a download only if needed), and lets it go after. */
async function encodeFromInput(
  deps: Deps,
  r: { file: FileRecord; plan: SegmentedPlan; spec: EncodeSpec; scratch: string; signal: AbortSignal; part: number; abort: AbortController },
): Promise<Map<string, string>> {
  const input = await partInput(deps, r.file.input_key, r.scratch);
  try {
    const onProgress = partProgress(deps, r.file, r.plan, r.part, r.abort);
    const startedAt = performance.now();
    const startedCpu = process.cpuUsage();
    const { files, read } = await encodePart(deps, { file: r.file, plan: r.plan, spec: r.spec, source: input.source, scratch: r.scratch, signal: r.signal, onProgress });
    const { spec } = r;
    // Where a segmented job's time goes, per part (issue 12's benchmark reads it at info level).
    deps.log.info({ fileId: r.file.id, part: r.part, kind: spec.kind, ...(spec.kind === 'segment' ? { presetId: spec.presetId, segment: spec.segment.index } : {}), ...read, ms: Math.round(performance.now() - startedAt), cpuMs: cpuMsSince(startedCpu) }, 'segment part encoded');
    return files;
  } finally {
    await input.release();
  }
}

/** This process's CPU (not ffmpeg's) since `from`: what a part costs the worker beside its encoder. */
const cpuMsSince = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from);
  return Math.round((used.user + used.system) / 1000);
};

type EncodeSpec = Exclude<PartSpec, { kind: 'join' }>;

interface PartRun {
  file: Parameters<typeof filePreset>[0];
  plan: SegmentedPlan;
  spec: EncodeSpec;
  source: SegmentInput;
  scratch: string;
  signal: AbortSignal;
  onProgress(percent: number): void;
}

/** Encodes the part; returns the files to keep, by their name under the part's scratch prefix, and how the input was read. */
async function encodePart(deps: Deps, r: PartRun): Promise<{ files: Map<string, string>; read: SegmentEncodeResult | { input: 'file'; fetchMs: number } }> {
  const limits = { maxInputSeconds: deps.config.maxInputSeconds, maxOutputBytes: deps.config.maxOutputBytes };
  const loudness = r.plan.loudness?.plan;
  const trim = r.plan.trim ? { trim: r.plan.trim } : {};
  if (r.spec.kind === 'segment') {
    const preset = filePreset(r.file, r.spec.presetId);
    if (!preset) throw new MediaError('failed', `The output format ${r.spec.presetId} is no longer known.`);
    const out = path.join(r.scratch, `segment.${preset.extension}`);
    const read = await deps.media.encodeSegment({ source: r.source, input: r.plan.probe, preset, segment: r.spec.segment, outPath: out, signal: r.signal, limits, onProgress: r.onProgress, ...trim, ...(loudness ? { loudness } : {}) });
    return { files: new Map([[`${preset.id}.${preset.extension}`, out]]), read };
  }
  // The whole part: the presets that cannot be joined, in one pass, and the waveform's peaks.
  const outputs = r.spec.presetIds.flatMap((id) => {
    const preset = filePreset(r.file, id);
    return preset ? [{ preset, path: path.join(r.scratch, `${preset.id}.${preset.extension}`) }] : [];
  });
  const peaksPath = path.join(r.scratch, 'peaks.u8');
  const fetching = performance.now();
  const inputPath = await r.source.localPath();
  const fetchMs = Math.round(performance.now() - fetching);
  await deps.media.transcode({ inputPath, input: r.plan.probe, ...trim, outputs, peaksPath, signal: r.signal, limits, onProgress: r.onProgress, ...(loudness ? { loudness } : {}) });
  const files = new Map([...outputs.map((o): [string, string] => [`${o.preset.id}.${o.preset.extension}`, o.path]), ['peaks.u8', peaksPath]]);
  return { files, read: { input: 'file', fetchMs } };
}
