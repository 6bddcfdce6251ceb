import { AppError } from '../errors.ts';
import { toFileView, type FileView } from './files.ts';
import { retentionPolicy } from './retention-settings.ts';
import type { Deps, FilePosition, FileRecord, FileStatus } from './ports.ts';

export const FILE_STATUSES: readonly FileStatus[] = ['queued', 'running', 'completed', 'failed', 'canceled'];
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/**
 * A cursor names the last row a page showed (its time and id), so the next page starts right
 * after it however many files arrive or go meanwhile: no repeats and no gaps, unlike offsets.
 * It is opaque to callers (base64url) so its shape can change.
 */
export const encodeCursor = (file: Pick<FileRecord, 'created_at' | 'id'>): string =>
  Buffer.from(`${Number(file.created_at)}.${file.id}`).toString('base64url');

export function decodeCursor(raw: string | undefined, field = 'before'): FilePosition | undefined {
  if (raw === undefined || raw === '') return undefined;
  const text = Buffer.from(raw, 'base64url').toString();
  const match = /^(\d{1,16})\.(.{1,200})$/.exec(text);
  if (!match?.[1] || !match[2]) throw new AppError('invalid_cursor', 422, `"${field}" is not a cursor this service gave out.`);
  return { createdAt: Number(match[1]), id: match[2] };
}

export function parseStatus(raw: string | undefined): FileStatus | undefined {
  if (raw === undefined || raw === '' || raw === 'all') return undefined;
  const status = FILE_STATUSES.find((s) => s === raw);
  if (!status) throw new AppError('invalid_status', 422, `"status" must be one of ${FILE_STATUSES.join(', ')}.`);
  return status;
}

export interface FilePage {
  files: FileView[];
  /** Cursor for the older rows after this page, or null on the last page. */
  next: string | null;
  /** Cursor for the newer rows before this page, or null on the first page. */
  previous: string | null;
}

export interface FilePageRequest {
  status?: FileStatus;
  before?: FilePosition;
  after?: FilePosition;
  limit?: number;
}

/** One page of the user's files, newest first; one extra row is read to know whether more follow. */
export async function listFilesPage(deps: Pick<Deps, 'store' | 'config' | 'now'>, userId: string, request: FilePageRequest): Promise<FilePage> {
  const limit = request.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new AppError('invalid_limit', 422, `"limit" must be a whole number from 1 to ${MAX_PAGE_SIZE}.`);
  }
  const { status, before, after } = request;
  const rows = await deps.store.files.pageForUser(userId, { status, before, after, limit: limit + 1 });
  // Going back (after), the extra row sits at the front: it is the newer neighbour.
  const more = rows.length > limit;
  const shown = more ? (after ? rows.slice(1) : rows.slice(0, limit)) : rows;
  const outputs = await deps.store.outputs.listForFiles(shown.map((f) => f.id));
  const retention = await retentionPolicy(deps, userId);
  const first = shown[0];
  const last = shown[shown.length - 1];
  const olderExist = after ? true : more;
  const newerExist = after ? more : before !== undefined;
  return {
    files: shown.map((f) => toFileView(f, outputs.filter((o) => o.file_id === f.id), retention)),
    next: olderExist && last ? encodeCursor(last) : null,
    previous: newerExist && first ? encodeCursor(first) : null,
  };
}
