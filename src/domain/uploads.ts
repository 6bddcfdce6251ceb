import path from 'node:path';
import type { Readable } from 'node:stream';
import { AppError, fromSystemError } from '../errors.ts';
import { checkInputLimits } from '../media/limits.ts';
import { defaultPresetIds, type Preset } from '../media/presets.ts';
import { resolveChosenPresets } from './preset-catalog.ts';
import { MediaError, type MediaErrorKind, type ProbeResult } from '../media/types.ts';
import { fileBlobPrefix, inputKey } from './blob-keys.ts';
import { pushEvents, recordEvent } from './events.ts';
import { displayName, originalName } from './names.ts';
import { transcodeKey } from '../jobs/definitions.ts';
import { fileEvent, toFileView } from './files.ts';
import type { Deps, FileRecord } from './ports.ts';
import type { InputDetails } from './records.ts';
import { parseLoudnessOption, type LoudnessFields } from './loudness.ts';
import { limitsOf, mediaLimitsOf } from './quotas.ts';
import { settleUpload } from './upload-admission.ts';
import { teeToLocalCopy, type LocalCopy } from './upload-copy.ts';
import { parseTrim, trimBeyond, type TrimFields } from './trim.ts';

export { fileBlobPrefix, inputKey } from './blob-keys.ts';

/**
 * Parses "a,b" or ["a","b"] into preset ids, in order, without duplicates (the defaults when
 * none); whether each names a preset the user may choose is resolveChosenPresets' question.
 */
export function parsePresetIds(raw: unknown): string[] {
  const list = (Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [])
    .map((v) => String(v).trim())
    .filter(Boolean);
  if (list.length === 0) return [...defaultPresetIds];
  return [...new Set(list)];
}

/** Stores an upload under a fresh file id with `write`; on failure nothing is kept. */
async function storeInput(deps: Pick<Deps, 'blobs' | 'newId' | 'metrics'>, write: (key: string) => Promise<number>) {
  const fileId = deps.newId();
  try {
    const size = await write(inputKey(fileId));
    deps.metrics.uploadBytes(size);
    return { fileId, size };
  } catch (err) {
    await discard(deps, fileId);
    throw fromSystemError(err) ?? err;
  }
}

/**
 * Where the web process keeps uploads' copies while it probes them (remote storage): a folder of
 * its own, so that one that cannot be written never stops a job's scratch in tmp/.
 */
export const uploadCopyDir = (dataDir: string) => path.join(dataDir, 'upload-copies');

/**
 * Streams an upload body to storage. With remote storage a copy is kept on this machine for the
 * probe (upload-copy.ts): `localCopy`, which the caller releases once acceptUpload has run. The
 * caller owns cleanup of the stored bytes after it returns.
 */
export async function storeUploadBody(deps: Pick<Deps, 'blobs' | 'newId' | 'metrics' | 'config'>, body: Readable): Promise<{ fileId: string; size: number; localCopy?: LocalCopy }> {
  if (deps.blobs.local) return storeInput(deps, (key) => deps.blobs.put(key, body));
  const tee = teeToLocalCopy(body, uploadCopyDir(deps.config.dataDir));
  let stored: { fileId: string; size: number };
  try {
    stored = await storeInput(deps, (key) => deps.blobs.put(key, tee.stream));
  } catch (err) {
    tee.abandon();
    await (await tee.copy)?.release();
    throw err;
  }
  const localCopy = await tee.copy;
  return localCopy ? { ...stored, localCopy } : stored;
}

/**
 * Moves a finished upload that is already a local file into storage: a rename on the same disk,
 * a streamed upload to a bucket. The caller owns cleanup after it returns.
 */
export const storeUploadFile = (deps: Pick<Deps, 'blobs' | 'newId' | 'metrics'>, filePath: string) =>
  storeInput(deps, (key) => deps.blobs.putFile(key, filePath));

/** Probe fields of a file whose probe is still to come (remote storage). */
const pendingProbe: ProbeResult = { format: '', codec: '', durationMs: 0, sampleRate: 0, channels: 0, bitRate: 0, hasCover: false };

export const isProbed = (file: Pick<FileRecord, 'input_format'>) => file.input_format !== '';

/** What a file row keeps of a probe beyond its input columns (bits is 0 where the codec does not say). */
export const detailsOf = (probe: ProbeResult): InputDetails => ({ bits: probe.bits ?? 0, ...(probe.cover ? { cover: probe.cover } : {}) });

/** Limits get their own codes, so that clients can tell "too long" from "not audio". */
const refusalCodes: Partial<Record<MediaErrorKind, string>> = {
  too_long: 'input_too_long',
  too_large: 'output_too_large',
  too_many_channels: 'too_many_channels',
};

/** A media failure as the 422 answer to an upload, with the limit and what was measured. */
export const refusal = (err: MediaError): AppError =>
  new AppError(refusalCodes[err.kind] ?? 'unsupported_media', 422, err.message, { reason: err.kind, ...err.facts });

/** Probes the upload and checks it against the limits before any job exists. */
async function probeUpload(deps: Deps, userId: string, fileId: string, presets: readonly Preset[], copy?: LocalCopy): Promise<ProbeResult> {
  // A copy taken on the way to the bucket is probed in place; it is the caller's to release.
  const local = copy ? { path: copy.path, release: () => Promise.resolve() } : await deps.blobs.openLocal(inputKey(fileId), path.join(deps.config.dataDir, 'tmp'));
  try {
    const probe = await deps.media.probe(local.path);
    checkInputLimits(probe, presets, mediaLimitsOf(await limitsOf(deps, userId)));
    return probe;
  } catch (err) {
    if (err instanceof MediaError) throw refusal(err);
    throw err;
  } finally {
    await local.release();
  }
}

export interface NewUpload {
  userId: string;
  fileId: string;
  size: number;
  originalFilename: string;
  name: unknown;
  presets: unknown;
  /** The `loudness` field and, for custom, loudnessI, loudnessTP and loudnessLRA. */
  loudness?: LoudnessFields;
  /** The quota reservation taken when the upload began: settled with the file row. */
  reservationId?: string;
  /** The `start` and `end` fields: trim, in seconds. */
  trim?: TrimFields;
  /** With remote storage, the copy storeUploadBody kept on this machine: probed here. */
  localCopy?: LocalCopy;
}

/**
 * Turns a stored upload into a queued job: probe, then one transaction that creates the file row
 * and its job. Anything wrong removes the stored bytes, so a refused upload leaves nothing behind.
 */
export async function acceptUpload(deps: Deps, upload: NewUpload): Promise<FileRecord> {
  try {
    if (upload.size === 0) throw new AppError('empty_file', 422, 'The uploaded file is empty.');
    const presetIds = parsePresetIds(upload.presets);
    const { presets, own } = await resolveChosenPresets(deps, upload.userId, presetIds);
    const loudness = parseLoudnessOption(upload.loudness ?? {});
    const trim = parseTrim(upload.trim ?? {});
    // With remote storage the upload is probed from the copy taken on its way to the bucket; if
    // there is none (this disk was full), the job probes it first instead (and a trim past the
    // end then fails the job with the same reason).
    const probed = deps.blobs.local || upload.localCopy !== undefined;
    const probe = probed ? await probeUpload(deps, upload.userId, upload.fileId, presets, upload.localCopy) : pendingProbe;
    const beyond = probed ? trimBeyond(trim, probe.durationMs) : undefined;
    if (beyond) throw new AppError('trim_out_of_range', 422, beyond, { field: 'end', durationMs: probe.durationMs });
    const now = deps.now();
    const file: FileRecord = {
      id: upload.fileId,
      user_id: upload.userId,
      name: displayName(upload.name, upload.originalFilename),
      original_filename: originalName(upload.originalFilename),
      input_key: inputKey(upload.fileId),
      input_size: upload.size,
      input_format: probe.format,
      input_codec: probe.codec,
      duration_ms: probe.durationMs,
      has_cover: probe.hasCover,
      input_details: probed ? detailsOf(probe) : null,
      input_sample_rate: probe.sampleRate,
      input_channels: probe.channels,
      presets: presetIds,
      status: 'queued',
      progress: 0,
      error: null,
      generation: 1,
      waveform: null,
      loudness,
      loudness_report: null,
      own_presets: own,
      trim,
      run_presets: null,
      created_at: now,
      updated_at: now,
    };
    const event = await deps.store.transaction(async (tx) => {
      // Counted before the insert: a user's first waiting file goes first in line with everyone's.
      const priority = await tx.files.countActiveForUser(file.user_id);
      await tx.files.insert(file);
      if (upload.reservationId) await settleUpload(tx, upload.reservationId);
      const payload = { fileId: file.id, generation: file.generation };
      await tx.jobs.enqueue({ name: 'transcode', payload }, { key: transcodeKey(payload), priority, owner: file.user_id });
      return recordEvent(tx, deps, file.user_id, 'file.updated', fileEvent(toFileView(file, [], undefined)));
    });
    pushEvents(deps, [event]);
    return file;
  } catch (err) {
    await discard(deps, upload.fileId);
    throw fromSystemError(err) ?? err;
  }
}

/**
 * Removes what a refused upload stored. When storage itself is what failed, there is usually
 * nothing complete to remove (objects appear only once whole), so a failed cleanup must not hide
 * the original error.
 */
export async function discard(deps: Pick<Deps, 'blobs'>, fileId: string): Promise<void> {
  await deps.blobs.deletePrefix(fileBlobPrefix(fileId)).catch(() => undefined);
}
