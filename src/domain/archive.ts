/**
 * What goes into a ZIP download: the caller's completed outputs, each under the name its single
 * download has, made unique and safe as a path. Only rows that exist are listed, and rows exist
 * only for whole outputs, so a file still transcoding adds what it has finished (nothing yet).
 */
import { filePreset } from './preset-catalog.ts';
import { AppError, notFound } from '../errors.ts';
import { archiveSegment, UniqueNames } from './archive-names.ts';
import { downloadName } from './names.ts';
import type { Deps, FileRecord, OutputRecord } from './ports.ts';

/** The most files one request may bundle: a page or a script choosing more is a mistake. */
export const MAX_ARCHIVE_FILES = 1000;

export interface ArchiveItem {
  /** The entry's path inside the archive ("song.flac", "Song/song.flac"). */
  path: string;
  blobKey: string;
  size: number;
  modifiedAt: Date;
}

export interface ArchivePlan {
  /** The name to offer for the archive itself. */
  filename: string;
  items: ArchiveItem[];
}

function outputItems(file: FileRecord, outputs: readonly OutputRecord[], folder: string | undefined): ArchiveItem[] {
  const chosen = file.presets;
  const names = new UniqueNames();
  return chosen.flatMap((presetId) => {
    const output = outputs.find((o) => o.file_id === file.id && o.preset_id === presetId);
    if (!output) return [];
    const name = names.claim(archiveSegment(downloadName(file.original_filename, presetId, chosen, (id) => filePreset(file, id)), `output-${presetId}`));
    return [{
      path: folder ? `${folder}/${name}` : name,
      blobKey: output.blob_key,
      size: Number(output.size),
      modifiedAt: new Date(Number(output.created_at)),
    }];
  });
}

const unprocessable = (code: string, detail: string) => new AppError(code, 422, detail);

const nothingToDownload = () =>
  new AppError('nothing_to_download', 409, 'None of the chosen files has a finished output yet. Wait until transcoding completes, then try again.');

/** Every finished output of one file, side by side at the top of the archive. */
export async function planFileArchive(deps: Pick<Deps, 'store'>, userId: string, fileId: string): Promise<ArchivePlan> {
  const file = await deps.store.files.findForUser(userId, fileId);
  if (!file) throw notFound('file');
  const items = outputItems(file, await deps.store.outputs.listForFile(file.id), undefined);
  if (items.length === 0) throw nothingToDownload();
  return { filename: `${archiveSegment(file.name, 'audio')}.zip`, items };
}

/** Reads `ids` as sent by JSON (an array) or by a form (one value, or repeated values). */
export function selectedIds(raw: unknown): string[] {
  const list = typeof raw === 'string' ? [raw] : raw;
  if (list === undefined || (Array.isArray(list) && list.length === 0)) throw unprocessable('no_files_chosen', 'Choose at least one file: send "ids" as a list of file ids.');
  if (!Array.isArray(list) || !list.every((id): id is string => typeof id === 'string' && id.length > 0 && id.length <= 200)) {
    throw unprocessable('invalid_ids', '"ids" must be a list of file ids (non-empty strings).');
  }
  if (list.length > MAX_ARCHIVE_FILES) throw unprocessable('too_many_files', `Choose at most ${MAX_ARCHIVE_FILES} files per archive.`);
  return [...new Set(list)];
}

/** The finished outputs of several files, one folder per file. Any id not the caller's: 404. */
export async function planSelectionArchive(deps: Pick<Deps, 'store'>, userId: string, rawIds: unknown): Promise<ArchivePlan> {
  const ids = selectedIds(rawIds);
  const owned = new Map((await deps.store.files.listForUser(userId)).map((f) => [f.id, f]));
  const files = ids.map((id) => owned.get(id));
  if (!files.every((f): f is FileRecord => f !== undefined)) throw notFound('file');
  const outputs = await deps.store.outputs.listForFiles(ids);
  const folders = new UniqueNames();
  const items = files.flatMap((file) => {
    if (!outputs.some((o) => o.file_id === file.id)) return [];
    return outputItems(file, outputs, folders.claim(archiveSegment(file.name, 'file'), 'folder'));
  });
  if (items.length === 0) throw nothingToDownload();
  return { filename: files.length === 1 && files[0] ? `${archiveSegment(files[0].name, 'audio')}.zip` : `reprise-${files.length}-files.zip`, items };
}
