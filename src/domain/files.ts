import { AppError, notFound } from '../errors.ts';
import { transcodeKey } from '../jobs/definitions.ts';
import { dropQueuedParts, removeSegmentScratch } from './segmented/cleanup.ts';
import { filePreset } from './preset-catalog.ts';
import { emit } from './events.ts';
import type { Deps, FileRecord, OutputRecord } from './ports.ts';
import { fileBlobPrefix } from './blob-keys.ts';
import { queueWebhookEvent } from './webhook-events.ts';
import { loudnessView, type LoudnessView } from './loudness.ts';
import { fileExpiry, retentionPolicy, type RetentionPolicy } from './retention-settings.ts';
import { trimView, type TrimView } from './trim.ts';

export interface OutputView {
  preset: string;
  label: string;
  mimeType: string;
  extension: string;
  size: number;
  durationMs: number;
  bitRate: number;
  url: string;
}

export interface FileView {
  id: string;
  name: string;
  originalFilename: string;
  status: FileRecord['status'];
  progress: number;
  error: string | null;
  presets: string[];
  input: { format: string; codec: string; size: number; durationMs: number; sampleRate: number; channels: number };
  outputs: OutputView[];
  /** Peak levels 0..100 for drawing a waveform, once transcoded. */
  waveform: number[] | null;
  /** The normalization asked for ('off' by default) and, once the job has run, what it measured. */
  loudness: LoudnessView;
  /** The part of the input every output is made from (seconds); null: all of it. */
  trim: TrimView | null;
  /** The presets a later run makes while it is queued or running (or failed or canceled: a retry makes them); null: every preset. */
  producing: string[] | null;
  createdAt: string;
  updatedAt: string;
  /** When retention deletes the file, source and outputs; null: kept until its owner deletes it. */
  expiresAt: string | null;
}

/** The file as pages and the API show it; `retention` is its owner's policy (see retentionPolicy). */
export function toFileView(file: FileRecord, outputs: readonly OutputRecord[], retention: RetentionPolicy | undefined): FileView {
  const expires = fileExpiry(retention, file);
  const presets = file.presets;
  return {
    id: file.id,
    name: file.name,
    originalFilename: file.original_filename,
    status: file.status,
    progress: Math.round(file.progress),
    error: file.error,
    presets: [...presets],
    input: {
      format: file.input_format,
      codec: file.input_codec,
      size: Number(file.input_size),
      durationMs: Number(file.duration_ms),
      sampleRate: file.input_sample_rate,
      channels: file.input_channels,
    },
    // Only outputs that exist have rows, so a link is never shown before its file is whole.
    outputs: presets.flatMap((id) => {
      const o = outputs.find((x) => x.preset_id === id);
      const p = filePreset(file, id);
      if (!o || !p) return [];
      return [{
        preset: id,
        label: p.label,
        mimeType: p.mimeType,
        extension: p.extension,
        size: Number(o.size),
        durationMs: Number(o.duration_ms),
        bitRate: Number(o.bit_rate),
        url: `/api/v1/files/${file.id}/outputs/${id}`,
      }];
    }),
    waveform: file.waveform,
    loudness: loudnessView(file.loudness, file.loudness_report),
    trim: trimView(file.trim),
    producing: file.run_presets ? [...file.run_presets] : null,
    createdAt: new Date(Number(file.created_at)).toISOString(),
    updatedAt: new Date(Number(file.updated_at)).toISOString(),
    expiresAt: expires === null ? null : new Date(expires).toISOString(),
  };
}

export async function getFile(deps: Pick<Deps, 'store' | 'config' | 'now'>, userId: string, fileId: string): Promise<FileView> {
  const file = await deps.store.files.findForUser(userId, fileId);
  if (!file) throw notFound('file');
  return toFileView(file, await deps.store.outputs.listForFile(fileId), await retentionPolicy(deps, userId));
}

/** Cancels a queued or running job. A running ffmpeg notices at its next progress report. */
export async function cancelFile(deps: Deps, userId: string, fileId: string): Promise<FileView> {
  const file = await deps.store.files.findForUser(userId, fileId);
  if (!file) throw notFound('file');
  const changed = await deps.store.transaction(async (tx) => {
    const ok = await tx.files.update(
      fileId,
      { status: 'canceled', updated_at: deps.now(), error: null },
      { statusIn: ['queued', 'running'], generation: file.generation },
    );
    if (!ok) return false;
    await tx.jobs.removeQueued(transcodeKey({ fileId, generation: file.generation }));
    await dropQueuedParts(tx, fileId, file.generation);
    const row = await tx.files.findById(fileId);
    if (row) await queueWebhookEvent(tx, deps, userId, 'file.canceled', toFileView(row, await tx.outputs.listForFile(fileId), await retentionPolicy(deps, userId, tx)));
    return true;
  });
  if (!changed) throw new AppError('not_cancelable', 409, `This file is ${file.status}; only queued or running jobs can be canceled.`);
  await removeSegmentScratch(deps, fileId, file.generation);
  const view = await getFile(deps, userId, fileId);
  await emit(deps, userId, 'file.updated', fileEvent(view));
  return view;
}

/**
 * Runs a failed or canceled job again as a new generation. A whole job starts from a clean slate;
 * a later run of some outputs (run_presets) runs those again and keeps every output there is.
 */
export async function retryFile(deps: Deps, userId: string, fileId: string): Promise<FileView> {
  const file = await deps.store.files.findForUser(userId, fileId);
  if (!file) throw notFound('file');
  const generation = file.generation + 1;
  const changed = await deps.store.transaction(async (tx) => {
    const ok = await tx.files.update(
      fileId,
      { status: 'queued', progress: 0, error: null, generation, updated_at: deps.now() },
      { statusIn: ['failed', 'canceled'], generation: file.generation },
    );
    if (!ok) return false;
    if (!file.run_presets) await tx.outputs.deleteForFile(fileId);
    const payload = { fileId, generation };
    const priority = (await tx.files.countActiveForUser(userId)) - 1;
    await tx.jobs.enqueue({ name: 'transcode', payload }, { key: transcodeKey(payload), priority: Math.max(0, priority), owner: userId });
    return true;
  });
  if (!changed) throw new AppError('not_retryable', 409, `This file is ${file.status}; only failed or canceled jobs can be retried.`);
  // Outputs of earlier generations are unreachable now (their rows are gone); free their space.
  // After a later run the kept outputs still live under their own generations: leave them.
  if (!file.run_presets) for (let g = 1; g < generation; g++) await deps.blobs.deletePrefix(`${fileBlobPrefix(fileId)}/g${g}`);
  const view = await getFile(deps, userId, fileId);
  await emit(deps, userId, 'file.updated', fileEvent(view));
  return view;
}

/** Deletes the file, its outputs and its job. A running transcode sees its row vanish and stops. */
export async function deleteFile(deps: Deps, userId: string, fileId: string): Promise<void> {
  const file = await deps.store.files.findForUser(userId, fileId);
  const deleted = await deps.store.files.deleteForUser(userId, fileId);
  if (!deleted) throw notFound('file');
  if (file) await deps.store.transaction((tx) => dropQueuedParts(tx, fileId, file.generation));
  await afterFileDeleted(deps, userId, fileId);
}

/**
 * Once a file's row is gone: free its bytes at once (source and every output, all generations;
 * its peaks lived in the row) and tell its owner's open pages. An output a running job publishes
 * after this is removed by that job, which finds its row gone (see transcode.ts).
 */
export async function afterFileDeleted(deps: Pick<Deps, 'blobs' | 'store' | 'push' | 'now' | 'log'>, userId: string, fileId: string): Promise<void> {
  await deps.blobs.deletePrefix(fileBlobPrefix(fileId));
  await removeSegmentScratch(deps, fileId);
  await emit(deps, userId, 'file.updated', { id: fileId, status: 'deleted' });
}

export function fileEvent(view: FileView): object {
  return { id: view.id, name: view.name, status: view.status, progress: view.progress, error: view.error, outputs: view.outputs };
}
