/**
 * Per-user quotas: what each user may keep and start, and how much of it they use. The settings
 * give the defaults (QUOTA_BYTES, QUOTA_QUEUED_JOBS, QUOTA_FILES_PER_DAY, MAX_UPLOAD_BYTES,
 * MAX_INPUT_SECONDS, MAX_OUTPUT_BYTES); an administrator may override any of them per user.
 *
 *   limitsOf(deps, userId)             the limits that apply to the user now
 *   usageOf(deps, userId)              storage, today's uploads and waiting jobs, against them
 *   setOverrides(deps, userId, patch)  change some overrides (null: back to the default)
 *   clearOverrides(deps, userId)       every limit back to the default
 *
 * Admission of uploads (reserve before the first byte, settle or release after) is in
 * ./upload-admission.ts. See docs/decisions/0021-quotas.md.
 */
import { AppError } from '../errors.ts';
import type { MediaLimits } from '../media/types.ts';
import type { Deps, QuotaOverrides } from './ports.ts';

export type { QuotaOverrides } from './ports.ts';

/** The limits in force for one user; null: unlimited. */
export interface UserLimits {
  quotaBytes: number | null;
  queuedJobs: number | null;
  filesPerDay: number | null;
  maxUploadBytes: number;
  maxInputSeconds: number;
  maxOutputBytes: number;
}

export interface Usage {
  storage: { usedBytes: number; reservedBytes: number; quotaBytes: number | null };
  filesToday: { count: number; quota: number | null; resetAt: string };
  queuedJobs: { count: number; quota: number | null };
  limits: UserLimits;
  /** The overrides an administrator set for this user (null: the default applies). */
  overrides: QuotaOverrides;
}

type QuotaDeps = Pick<Deps, 'store' | 'config'>;

const DAY_MS = 86_400_000;
/** Files per day count per UTC day: one reset instant for everybody, easy to state. */
export const dayStart = (now: number) => Math.floor(now / DAY_MS) * DAY_MS;
export const nextReset = (now: number) => dayStart(now) + DAY_MS;

/** The overrides on top of the settings' defaults. */
export function effectiveLimits(config: Deps['config'], o: QuotaOverrides): UserLimits {
  return {
    quotaBytes: o.quotaBytes ?? config.quotas.bytes ?? null,
    queuedJobs: o.queuedJobs ?? config.quotas.queuedJobs ?? null,
    filesPerDay: o.filesPerDay ?? config.quotas.filesPerDay ?? null,
    maxUploadBytes: o.maxUploadBytes ?? config.maxUploadBytes,
    maxInputSeconds: o.maxInputSeconds ?? config.maxInputSeconds,
    maxOutputBytes: o.maxOutputBytes ?? config.maxOutputBytes,
  };
}

export async function limitsOf(deps: QuotaDeps, userId: string): Promise<UserLimits> {
  return effectiveLimits(deps.config, await deps.store.quotas.overridesOf(userId));
}

/** The per-job caps of these limits, as the media layer takes them. */
export const mediaLimitsOf = (limits: UserLimits): MediaLimits => ({ maxInputSeconds: limits.maxInputSeconds, maxOutputBytes: limits.maxOutputBytes });

/**
 * Exact usage, read from the sizes recorded with each source and output (a deleted file's rows
 * are gone, so its bytes are given back at once). Uploads under way are shown as reserved.
 */
export async function usageOf(deps: QuotaDeps & Pick<Deps, 'now'>, userId: string): Promise<Usage> {
  const now = deps.now();
  const overrides = await deps.store.quotas.overridesOf(userId);
  const limits = effectiveLimits(deps.config, overrides);
  const open = await deps.store.quotas.openReservations(userId, now);
  return {
    storage: { usedBytes: await deps.store.quotas.storedBytes(userId), reservedBytes: open.bytes, quotaBytes: limits.quotaBytes },
    filesToday: { count: await deps.store.quotas.uploadsSince(userId, dayStart(now)), quota: limits.filesPerDay, resetAt: new Date(nextReset(now)).toISOString() },
    queuedJobs: { count: (await deps.store.files.countActiveForUser(userId)) + open.count, quota: limits.queuedJobs },
    limits,
    overrides,
  };
}

const overrideKeys = ['quotaBytes', 'queuedJobs', 'filesPerDay', 'maxUploadBytes', 'maxInputSeconds', 'maxOutputBytes'] as const;

/** Each override is a whole number ≥ 1 (or null): a limit of 0 would be a disabled account, which is another feature. */
function checkOverride(key: string, value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new AppError('invalid_quota', 422, `${key} must be a whole number of at least 1, or null for the default.`, { field: key });
  }
  return value;
}

/**
 * Changes some of a user's overrides: a key left out keeps its value, null returns it to the
 * setting's default. Returns the limits now in force. For an administrator (CLI, admin area).
 */
export async function setOverrides(
  deps: QuotaDeps & Pick<Deps, 'now'>,
  userId: string,
  patch: Partial<Record<keyof QuotaOverrides, number | null>>,
): Promise<UserLimits> {
  if (!(await deps.store.users.findById(userId))) throw new AppError('not_found', 404, 'No such user.');
  const unknown = Object.keys(patch).find((k) => !overrideKeys.some((known) => known === k));
  if (unknown) throw new AppError('invalid_quota', 422, `Unknown limit "${unknown}".`, { field: unknown });
  const current = await deps.store.quotas.overridesOf(userId);
  const next: QuotaOverrides = { ...current };
  for (const key of overrideKeys) {
    if (key in patch) next[key] = checkOverride(key, patch[key]);
  }
  await deps.store.quotas.setOverrides(userId, next, deps.now());
  return effectiveLimits(deps.config, next);
}

/** Every limit of the user back to the settings' defaults. */
export const clearOverrides = (deps: QuotaDeps & Pick<Deps, 'now'>, userId: string): Promise<UserLimits> =>
  setOverrides(deps, userId, Object.fromEntries(overrideKeys.map((k) => [k, null])));
