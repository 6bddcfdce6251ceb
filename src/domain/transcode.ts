import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { checkInputLimits } from '../media/limits.ts';
import type { Preset } from '../media/presets.ts';
import { filePreset } from './preset-catalog.ts';
import { roundMeasurement, shiftedBy } from '../media/loudness.ts';
import { MediaError, type LoudnessAnalysis, type OutputPlan, type ProbeResult, type TranscodeResult } from '../media/types.ts';
import type { LoudnessReport } from './loudness.ts';
import { emit, pushEvents, recordEvent } from './events.ts';
import { fileEvent, toFileView } from './files.ts';
import { recordJobOutcome } from './notifications.ts';
import { retentionPolicy } from './retention-settings.ts';
import { queueWebhookEvent } from './webhook-events.ts';
import type { Deps, FileRecord, PushEvent, Store, TranscodeJob } from './ports.ts';
import { fileBlobPrefix } from './blob-keys.ts';
import { isProbed } from './uploads.ts';
import { limitsOf, mediaLimitsOf } from './quotas.ts';
import { trimBeyond, trimmedDurationMs } from './trim.ts';

export type JobOutcome = 'completed' | 'failed' | 'canceled' | 'skipped';

const outputKey = (fileId: string, generation: number, preset: Preset) =>
  `${fileBlobPrefix(fileId)}/g${generation}/${preset.id}.${preset.extension}`;

/** Written once the row is gone or moved on: the job lost its claim to the file. */
class Superseded extends Error {}

/**
 * The transcode job: one ffmpeg run writes every chosen output into a private scratch folder;
 * outputs are then published and recorded, with the file's new status and its notification, in one
 * transaction. Re-running after a crash is safe: a finished generation is skipped, outputs are
 * overwritten whole, and the notification's dedupe key admits only one.
 */
export async function runTranscodeJob(
  deps: Deps,
  job: TranscodeJob,
  opts: { signal: AbortSignal },
): Promise<JobOutcome> {
  const file = await deps.store.files.findById(job.fileId);
  const guard = { generation: job.generation, statusIn: ['queued', 'running'] as const };
  if (!file || file.generation !== job.generation || !guard.statusIn.includes(file.status as 'queued')) {
    return 'skipped';
  }
  const started = await deps.store.files.update(file.id, { status: 'running', progress: 0, error: null, updated_at: deps.now() }, guard);
  if (!started) return 'skipped';
  await emit(deps, file.user_id, 'file.updated', { id: file.id, status: 'running', progress: 0 });

  const scratchRoot = path.join(deps.config.dataDir, 'tmp');
  await mkdir(scratchRoot, { recursive: true });
  const scratch = await mkdtemp(path.join(scratchRoot, `job-${process.pid}-${file.id}-`));
  const abort = new AbortController();
  const forward = () => abort.abort();
  opts.signal.addEventListener('abort', forward, { once: true });
  const published: string[] = [];
  try {
    // A later run of some outputs (run_presets) makes only those; the others stay as they are.
    const presets = (file.run_presets ?? file.presets).flatMap((id) => filePreset(file, id) ?? []);
    const plans: OutputPlan[] = presets.map((preset) => ({ preset, path: path.join(scratch, `${preset.id}.${preset.extension}`) }));
    let written: TranscodeResult = { durationMs: 0 };
    let analysis: LoudnessAnalysis | undefined;
    const input = await deps.blobs.openLocal(file.input_key, scratch);
    try {
      const probe = isProbed(file) ? probeOf(file) : await probeInJob(deps, file, job, input.path);
      // Probed at upload or just now: either way the limits hold before ffmpeg starts (and the
      // media layer holds them again while it runs, since a container's duration can lie).
      // The owner's own caps: an administrator may have raised or lowered them (domain/quotas.ts).
      const limits = mediaLimitsOf(await limitsOf(deps, file.user_id));
      checkInputLimits(probe, presets, limits);
      const beyond = trimBeyond(file.trim, probe.durationMs);
      if (beyond) throw new MediaError('failed', beyond);
      // Media sees the trimmed length, so progress runs to 100 over the part that is made.
      const source = { ...probe, durationMs: trimmedDurationMs(file.trim, probe.durationMs) };
      const trim = file.trim ? { trim: file.trim } : {};
      const option = file.loudness;
      // Normalizing measures first (a fifth of the progress bar), here on the job's own copy of
      // the input, so it is the same with local or remote storage.
      const share = option ? MEASURE_SHARE : 0;
      if (option) {
        analysis = await deps.media.analyzeLoudness({
          inputPath: input.path,
          input: source,
          ...trim,
          target: option.target,
          lossy: presets.some((p) => !p.lossless),
          signal: abort.signal,
          limits,
          onProgress: (percent) => reportProgress(deps, file, job, Math.floor(percent * share), abort),
        });
      }
      written = await deps.media.transcode({
        inputPath: input.path,
        input: source,
        ...trim,
        outputs: plans,
        peaksPath: path.join(scratch, 'peaks.u8'),
        signal: abort.signal,
        limits,
        onProgress: (percent) => reportProgress(deps, file, job, Math.min(Math.floor(100 * share + percent * (1 - share)), 99), abort),
        ...(analysis ? { loudness: analysis.plan } : {}),
      });
    } finally {
      await input.release();
    }
    // Outputs are published side by side; each becomes visible only when whole.
    // Every put settles before a failure is acted on: otherwise one still in flight could publish
    // after the cleanup below has run, and its bytes would stay with nothing pointing at them.
    const settled = await Promise.allSettled(
      plans.map(async (plan) => {
        const key = outputKey(file.id, job.generation, plan.preset);
        published.push(key);
        return { plan, key, size: await deps.blobs.putFile(key, plan.path) };
      }),
    );
    const described = settled.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    const seconds = Math.max(written.durationMs, 1) / 1000;
    const waveform = await deps.media.waveform(path.join(scratch, 'peaks.u8'));
    const loudnessReport = analysis ? reportOf(analysis, written.loudnessAfter) : null;
    const replaced: string[] = [];
    const events = await deps.store.transaction(async (tx) => {
      const now = deps.now();
      // run_presets is cleared only on success: a failed or canceled later run retries as itself.
      const done = { status: 'completed' as const, progress: 100, error: null, waveform, loudness_report: loudnessReport, run_presets: null, updated_at: now };
      const ok = await tx.files.update(file.id, done, {
        generation: job.generation,
        statusIn: ['running'],
      });
      if (!ok) throw new Superseded();
      for (const d of described) {
        // A re-run output replaces the old one only now; its bytes go once this commits.
        const old = await tx.outputs.find(file.id, d.plan.preset.id);
        if (old && old.blob_key !== d.key) replaced.push(old.blob_key);
        await tx.outputs.upsert({
          file_id: file.id,
          preset_id: d.plan.preset.id,
          blob_key: d.key,
          size: d.size,
          duration_ms: written.durationMs,
          bit_rate: Math.round((d.size * 8) / seconds),
          created_at: now,
        });
      }
      const message = file.run_presets ? `New outputs of ${file.name} are ready.` : `Your file ${file.name} has been processed.`;
      return terminalEvents(tx, deps, file, job, 'completed', message);
    });
    pushEvents(deps, events);
    await Promise.all(replaced.map((key) => deps.blobs.deletePrefix(key).catch((err: unknown) => deps.log.warn({ err, key }, 'could not remove a replaced output'))));
    return 'completed';
  } catch (err) {
    if (err instanceof Superseded || abort.signal.aborted) {
      await Promise.all(published.map((key) => deps.blobs.deletePrefix(key)));
      // Our own shutdown aborts too: then the job is handed back, not given up.
      if (opts.signal.aborted && !(err instanceof Superseded)) throw err;
      return 'canceled';
    }
    const reason = err instanceof MediaError ? err.message : 'an internal error occurred';
    if (!(err instanceof MediaError)) deps.log.error({ err, fileId: file.id }, 'transcode job crashed');
    const outcome = await failJob(deps, file, job, reason);
    // The file was deleted while this job failed (a put can fail because its folder was just
    // removed): what the job published after the deletion freed the file's bytes is ours to free.
    if (outcome === 'canceled' && !(await deps.store.files.findById(file.id))) await deps.blobs.deletePrefix(fileBlobPrefix(file.id));
    return outcome;
  } finally {
    opts.signal.removeEventListener('abort', forward);
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The part of a normalizing job's progress bar that its measuring pass fills. */
const MEASURE_SHARE = 0.2;

const reportOf = (analysis: LoudnessAnalysis, measured: TranscodeResult['loudnessAfter']): LoudnessReport => ({
  method: analysis.plan.method,
  gainDb: analysis.plan.gainDb,
  before: roundMeasurement(analysis.before),
  after: roundMeasurement(measured ?? shiftedBy(analysis.before, analysis.plan.gainDb)),
  afterFrom: measured ? 'meter' : 'gain',
});

function probeOf(file: FileRecord): ProbeResult {
  return {
    format: file.input_format,
    codec: file.input_codec,
    durationMs: Number(file.duration_ms),
    sampleRate: file.input_sample_rate,
    channels: file.input_channels,
    bitRate: 0,
    hasCover: file.has_cover,
  };
}

/** With remote storage the web process could not probe; the job does, and a bad file fails here. */
async function probeInJob(deps: Deps, file: FileRecord, job: TranscodeJob, inputPath: string): Promise<ProbeResult> {
  const probe = await deps.media.probe(inputPath);
  await deps.store.files.update(
    file.id,
    {
      input_format: probe.format,
      input_codec: probe.codec,
      duration_ms: probe.durationMs,
      input_sample_rate: probe.sampleRate,
      input_channels: probe.channels,
      has_cover: probe.hasCover,
    },
    { generation: job.generation, statusIn: ['running'] },
  );
  return probe;
}

async function failJob(deps: Deps, file: FileRecord, job: TranscodeJob, reason: string): Promise<JobOutcome> {
  const events = await deps.store.transaction(async (tx) => {
    const ok = await tx.files.update(file.id, { status: 'failed', error: reason, updated_at: deps.now() }, {
      generation: job.generation,
      statusIn: ['running'],
    });
    if (!ok) return null;
    return terminalEvents(tx, deps, file, job, 'failed', `Transcoding ${file.name} failed: ${reason}`);
  });
  if (events === null) return 'canceled';
  pushEvents(deps, events);
  return 'failed';
}

/** The file's final state and its one notification, recorded inside the terminal transaction. */
async function terminalEvents(
  tx: Store,
  deps: Deps,
  file: FileRecord,
  job: TranscodeJob,
  kind: 'completed' | 'failed',
  message: string,
): Promise<{ userId: string; event: PushEvent }[]> {
  const row = await tx.files.findById(file.id);
  const outputs = await tx.outputs.listForFile(file.id);
  const view = row ? toFileView(row, outputs, await retentionPolicy(deps, file.user_id, tx)) : undefined;
  const updated = view ? [await recordEvent(tx, deps, file.user_id, 'file.updated', fileEvent(view))] : [];
  // Webhooks are queued in the same transaction as the state they report.
  if (view) await queueWebhookEvent(tx, deps, file.user_id, kind === 'completed' ? 'file.completed' : 'file.failed', view);
  const notification = await recordJobOutcome(tx, deps, { userId: file.user_id, fileId: file.id, generation: job.generation, kind, message, fileName: file.name, reason: kind === 'failed' ? (row?.error ?? null) : null });
  return notification ? [...updated, notification] : updated;
}

/** Saves progress; a row that no longer says "running" means cancel or delete, so stop ffmpeg. */
function reportProgress(deps: Deps, file: FileRecord, job: TranscodeJob, percent: number, abort: AbortController): void {
  deps.store.files
    .update(file.id, { progress: percent, updated_at: deps.now() }, { generation: job.generation, statusIn: ['running'] })
    .then((stillOurs) => {
      if (!stillOurs) return abort.abort();
      return emit(deps, file.user_id, 'file.updated', { id: file.id, status: 'running', progress: percent });
    })
    .catch((err: unknown) => deps.log.warn({ err, fileId: file.id }, 'could not save progress'));
}
