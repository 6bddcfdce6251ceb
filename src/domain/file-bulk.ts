import { AppError, notFound } from '../errors.ts';
import { selectedIds } from './archive.ts';
import { deleteFile, retryFile } from './files.ts';
import type { Deps, FileRecord } from './ports.ts';

/**
 * Acting on a selection: every id must be one of the caller's files, or nothing at all is done
 * and the answer is 404 (the same as for one foreign id), so a list never reveals which ids exist.
 */
async function ownedSelection(deps: Pick<Deps, 'store'>, userId: string, rawIds: unknown): Promise<FileRecord[]> {
  const ids = selectedIds(rawIds);
  const owned = await deps.store.files.findManyForUser(userId, ids);
  if (owned.length !== ids.length) throw notFound('file');
  const byId = new Map(owned.map((f) => [f.id, f]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** Deletes each chosen file with its outputs; returns the ids deleted. */
export async function deleteFiles(deps: Deps, userId: string, rawIds: unknown): Promise<{ deleted: string[] }> {
  const files = await ownedSelection(deps, userId, rawIds);
  const deleted: string[] = [];
  for (const file of files) {
    // A file deleted meanwhile (another tab) is already what was asked for.
    await deleteFile(deps, userId, file.id).then(
      () => deleted.push(file.id),
      (err: unknown) => {
        if (!(err instanceof AppError && err.status === 404)) throw err;
      },
    );
  }
  return { deleted };
}

/**
 * Retries the chosen files that failed or were canceled; the others are left as they are and
 * listed as skipped, so "retry everything I picked" is safe on a mixed selection.
 */
export async function retryFiles(deps: Deps, userId: string, rawIds: unknown): Promise<{ retried: string[]; skipped: string[] }> {
  const files = await ownedSelection(deps, userId, rawIds);
  const retried: string[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    if (file.status !== 'failed' && file.status !== 'canceled') {
      skipped.push(file.id);
      continue;
    }
    await retryFile(deps, userId, file.id).then(
      () => retried.push(file.id),
      (err: unknown) => {
        // Retried by someone else between the read and now: not ours to do twice.
        if (!(err instanceof AppError && (err.status === 409 || err.status === 404))) throw err;
        skipped.push(file.id);
      },
    );
  }
  return { retried, skipped };
}
