import { roundMeasurement, shiftedBy } from '../media/loudness.ts';
import type { LoudnessAnalysis, TranscodeResult } from '../media/types.ts';
import { pushEvents, recordEvent } from './events.ts';
import { fileEvent, toFileView } from './files.ts';
import type { LoudnessReport } from './loudness.ts';
import { recordJobOutcome } from './notifications.ts';
import { retentionPolicy } from './retention-settings.ts';
import type { Deps, FileRecord, PushEvent, Store, TranscodeJob } from './ports.ts';
import { queueWebhookEvent } from './webhook-events.ts';

/** Written once the row is gone or moved on: the job lost its claim to the file. */
export class Superseded extends Error {}

/** An output already published under its key, to be recorded. */
export interface PublishedOutput {
  presetId: string;
  key: string;
  size: number;
}

/**
 * Records the outputs and the file's completion, with its one notification and webhook, in one
 * transaction; throws Superseded when the file was canceled, deleted or retried meanwhile. Used by
 * the one-pass transcode and the segmented join alike.
 */
export async function completeFile(
  deps: Deps,
  file: FileRecord,
  job: TranscodeJob,
  done: { outputs: readonly PublishedOutput[]; durationMs: number; waveform: number[]; loudnessReport: LoudnessReport | null },
): Promise<void> {
  const seconds = Math.max(done.durationMs, 1) / 1000;
  const replaced: string[] = [];
  const events = await deps.store.transaction(async (tx) => {
    const now = deps.now();
    // run_presets is cleared only on success: a failed or canceled later run retries as itself.
    const completed = { status: 'completed' as const, progress: 100, error: null, waveform: done.waveform, loudness_report: done.loudnessReport, run_presets: null, updated_at: now };
    const ok = await tx.files.update(file.id, completed, {
      generation: job.generation,
      statusIn: ['running'],
    });
    if (!ok) throw new Superseded();
    for (const d of done.outputs) {
      // A re-run output replaces the old one only now; its bytes go once this commits (0017).
      const old = await tx.outputs.find(file.id, d.presetId);
      if (old && old.blob_key !== d.key) replaced.push(old.blob_key);
      await tx.outputs.upsert({
        file_id: file.id,
        preset_id: d.presetId,
        blob_key: d.key,
        size: d.size,
        duration_ms: done.durationMs,
        bit_rate: Math.round((d.size * 8) / seconds),
        created_at: now,
      });
    }
    const message = file.run_presets ? `New outputs of ${file.name} are ready.` : `Your file ${file.name} has been processed.`;
    return terminalEvents(tx, deps, file, job, 'completed', message);
  });
  pushEvents(deps, events);
  await Promise.all(replaced.map((key) => deps.blobs.deletePrefix(key).catch((err: unknown) => deps.log.warn({ err, key }, 'could not remove a replaced output'))));
}

/** Fails a running file with a reason; 'canceled' when it was no longer running. */
export async function failJob(deps: Deps, file: FileRecord, job: TranscodeJob, reason: string): Promise<'failed' | 'canceled'> {
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

export const reportOf = (analysis: LoudnessAnalysis, measured: TranscodeResult['loudnessAfter']): LoudnessReport => ({
  method: analysis.plan.method,
  gainDb: analysis.plan.gainDb,
  before: roundMeasurement(analysis.before),
  after: roundMeasurement(measured ?? shiftedBy(analysis.before, analysis.plan.gainDb)),
  afterFrom: measured ? 'meter' : 'gain',
});

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
