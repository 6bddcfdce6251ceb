/**
 * The presets a user can choose from: the built-in ones and their own. Own presets are found only
 * through their owner, so another user's id is unknown here, exactly like an id nobody made.
 */
import { AppError, notFound } from '../errors.ts';
import { defaultPresetIds, describeDepthAndRate, findPreset, presets as builtIns, type Preset } from '../media/presets.ts';
import type { Deps, FileRecord, UserPresetRecord } from './ports.ts';
import { buildPreset, isUserPresetId, MAX_USER_PRESETS, userPresetId, validatePresetSpec, type PresetSpec } from './user-presets.ts';

/** A preset as the API and pages list it. `own` presets also show what their owner asked for. */
export interface PresetView {
  id: string;
  label: string;
  container: string;
  codec: string;
  bitRate: number | null;
  quality: number | null;
  sampleRate: number | null;
  maxChannels: number;
  extension: string;
  mimeType: string;
  lossless: boolean;
  depthAndRate: string;
  default: boolean;
  own: boolean;
  spec?: PresetSpec;
}

const toView = (p: Preset, spec?: PresetSpec): PresetView => ({
  id: p.id,
  label: p.label,
  container: p.muxer,
  codec: p.codec,
  bitRate: p.bitRate ?? null,
  quality: p.quality ?? null,
  sampleRate: p.sampleRate ?? null,
  maxChannels: p.maxChannels,
  extension: p.extension,
  mimeType: p.mimeType,
  lossless: p.lossless,
  depthAndRate: describeDepthAndRate(p),
  default: defaultPresetIds.includes(p.id),
  own: spec !== undefined,
  ...(spec ? { spec } : {}),
});

const ownView = (r: UserPresetRecord) => toView(buildPreset(r.id, r.spec), r.spec);

/** Built-in presets, then the user's own (none for an anonymous caller). */
export async function listPresetViews(deps: Pick<Deps, 'store'>, userId: string | undefined): Promise<PresetView[]> {
  const own = userId ? await deps.store.userPresets.listForUser(userId) : [];
  return [...builtIns.map((p) => toView(p)), ...own.map(ownView)];
}

/** One preset by id: a built-in one, or one of the caller's own. */
export async function getPresetView(deps: Pick<Deps, 'store'>, userId: string, id: string): Promise<PresetView> {
  const builtIn = findPreset(id);
  if (builtIn) return toView(builtIn);
  return ownView(await ownRecord(deps, userId, id));
}

async function ownRecord(deps: Pick<Deps, 'store'>, userId: string, id: string): Promise<UserPresetRecord> {
  const record = isUserPresetId(id) ? await deps.store.userPresets.findForUser(userId, id) : undefined;
  if (!record) throw notFound('preset');
  return record;
}

export async function createUserPreset(deps: Pick<Deps, 'store' | 'now' | 'newId'>, userId: string, body: Record<string, unknown>): Promise<PresetView> {
  const spec = validatePresetSpec(body);
  const now = deps.now();
  const record: UserPresetRecord = { id: userPresetId(deps.newId()), user_id: userId, spec, created_at: now, updated_at: now };
  // Counted and inserted in one transaction: two racing requests cannot both take the last place.
  await deps.store.transaction(async (tx) => {
    if ((await tx.userPresets.countForUser(userId)) >= MAX_USER_PRESETS) {
      throw new AppError('too_many_presets', 409, `You already have ${MAX_USER_PRESETS} presets of your own; delete one first.`, { limit: MAX_USER_PRESETS });
    }
    await tx.userPresets.insert(record);
  });
  return ownView(record);
}

/** Fields not sent keep their values; a field sent as null goes back to its default. */
export async function updateUserPreset(deps: Pick<Deps, 'store' | 'now'>, userId: string, id: string, body: Record<string, unknown>): Promise<PresetView> {
  const current = await ownRecord(deps, userId, id);
  const spec = validatePresetSpec({ ...current.spec, ...body });
  const updated_at = deps.now();
  if (!(await deps.store.userPresets.update(userId, id, { spec, updated_at }))) throw notFound('preset');
  return ownView({ ...current, spec, updated_at });
}

/** Files made with it keep their snapshot of it (FileRecord.own_presets): their outputs stay. */
export async function deleteUserPreset(deps: Pick<Deps, 'store'>, userId: string, id: string): Promise<void> {
  if (!isUserPresetId(id) || !(await deps.store.userPresets.deleteForUser(userId, id))) throw notFound('preset');
}

/** Chosen presets for an upload: ids in order without duplicates, and the own ones resolved now. */
export async function resolveChosenPresets(
  deps: Pick<Deps, 'store'>,
  userId: string,
  ids: readonly string[],
): Promise<{ presets: Preset[]; own: Preset[] }> {
  const own: Preset[] = [];
  const unknown: string[] = [];
  const presets: Preset[] = [];
  for (const id of ids) {
    const builtIn = findPreset(id);
    const record = builtIn || !isUserPresetId(id) ? undefined : await deps.store.userPresets.findForUser(userId, id);
    const preset = builtIn ?? (record && buildPreset(record.id, record.spec));
    if (!preset) unknown.push(id);
    else {
      presets.push(preset);
      if (record) own.push(preset);
    }
  }
  if (unknown.length > 0) throw new AppError('unknown_preset', 422, `Unknown preset: ${unknown.join(', ')}. See /api/v1/presets.`);
  return { presets, own };
}

/** The definition a file's output was made with: its snapshot for own presets, else the built-in one. */
export const filePreset = (file: Pick<FileRecord, 'own_presets'>, id: string): Preset | undefined =>
  file.own_presets.find((p) => p.id === id) ?? findPreset(id);
