/**
 * More outputs of a finished file, made later from its stored source: a new generation of the
 * same transcode job that produces only the presets asked for (FileRecord.run_presets), while
 * every other output stays as it is. See docs/decisions/0017-outputs-later-and-trim.md.
 */
import { AppError, notFound } from '../errors.ts';
import { transcodeKey } from '../jobs/definitions.ts';
import type { Preset } from '../media/presets.ts';
import { emit } from './events.ts';
import { fileEvent, getFile, type FileView } from './files.ts';
import { resolveChosenPresets } from './preset-catalog.ts';
import type { Deps, FileRecord } from './ports.ts';
import { isUserPresetId } from './user-presets.ts';

/** The preset ids asked for, in order, without duplicates; none is a 422, never "the defaults". */
export function parseRequestedPresets(raw: unknown): string[] {
  const list = (Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [])
    .map((v) => String(v).trim())
    .filter(Boolean);
  if (list.length === 0) throw new AppError('no_presets_chosen', 422, 'Choose at least one preset to make (field "presets": a list of preset ids).');
  return [...new Set(list)];
}

/**
 * The definitions to make them with: built-in ones, the caller's own as they are now, and — for
 * an own preset since deleted — the file's snapshot of it, so its output can still be made again.
 */
async function resolveForFile(deps: Pick<Deps, 'store'>, file: FileRecord, ids: readonly string[]): Promise<Preset[]> {
  const kept = ids.filter((id) => isUserPresetId(id) && file.own_presets.some((p) => p.id === id));
  const current = new Set((await deps.store.userPresets.listForUser(file.user_id)).map((r) => r.id));
  const lookedUp = ids.filter((id) => !kept.includes(id) || current.has(id));
  const { own } = await resolveChosenPresets(deps, file.user_id, lookedUp);
  const snapshots = file.own_presets.filter((p) => kept.includes(p.id) && !current.has(p.id));
  return [...own, ...snapshots];
}

/** Own-preset snapshots after this run: the ones just resolved replace their older copies. */
const mergedSnapshots = (before: readonly Preset[], now: readonly Preset[]): Preset[] => [
  ...before.filter((p) => !now.some((n) => n.id === p.id)),
  ...now,
];

const busy = (status: string) => new AppError('file_busy', 409, `This file is ${status}; more outputs can be made once its job has ended.`);

/**
 * Queues a run that makes `presets` of a completed, failed or canceled file. 404 for a file that
 * is not the caller's, 409 while its job is queued or running, 422 for no or unknown presets.
 */
export async function addOutputs(deps: Deps, userId: string, fileId: string, rawPresets: unknown): Promise<FileView> {
  const file = await deps.store.files.findForUser(userId, fileId);
  if (!file) throw notFound('file');
  // Checked again, atomically, by the guarded update below; this answers the common case first.
  if (file.status === 'queued' || file.status === 'running') throw busy(file.status);
  const ids = parseRequestedPresets(rawPresets);
  const own = await resolveForFile(deps, file, ids);
  const generation = file.generation + 1;
  const changed = await deps.store.transaction(async (tx) => {
    const ok = await tx.files.update(
      fileId,
      {
        status: 'queued',
        progress: 0,
        error: null,
        generation,
        presets: [...new Set([...file.presets, ...ids])],
        own_presets: mergedSnapshots(file.own_presets, own),
        run_presets: ids,
        updated_at: deps.now(),
      },
      { statusIn: ['completed', 'failed', 'canceled'], generation: file.generation },
    );
    if (!ok) return false;
    const payload = { fileId, generation };
    const priority = (await tx.files.countActiveForUser(userId)) - 1;
    await tx.jobs.enqueue({ name: 'transcode', payload }, { key: transcodeKey(payload), priority: Math.max(0, priority), owner: userId });
    return true;
  });
  if (!changed) {
    const now = await deps.store.files.findForUser(userId, fileId);
    if (!now) throw notFound('file');
    throw busy(now.status);
  }
  const view = await getFile(deps, userId, fileId);
  await emit(deps, userId, 'file.updated', fileEvent(view));
  return view;
}
