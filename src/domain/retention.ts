import { AppError } from '../errors.ts';

/**
 * Retention rules, as plain functions of the facts and a clock (`now`), so that tests move time
 * by passing it rather than waiting. See docs/decisions/0019-retention.md.
 *
 * A file's deletion time is its upload time plus the days its owner keeps files; but no file is
 * deleted without a notice at least a day before, so a notice sent late (retention just turned on
 * or shortened, or the sweep did not run) moves the deletion to a day after the notice.
 */
export const DAY_MS = 24 * 3600_000;

/** The most days a choice may name when the instance sets no limit (a hundred years). */
export const UNLIMITED_CHOICE_MAX = 36_500;

/**
 * The days a user's files are kept: their own choice, never longer than the instance's
 * RETENTION_DAYS (which may have been lowered after they chose); undefined: kept until deleted.
 */
export function effectiveDays(choice: number | null, instanceDays: number | undefined): number | undefined {
  if (choice === null) return instanceDays;
  return instanceDays === undefined ? choice : Math.min(choice, instanceDays);
}

/** What the expiry of one file depends on. */
export interface ExpiryFacts {
  created_at: number;
  /** When its owner was told it will go; null or absent: not yet. */
  expiry_warned_at?: number | null;
}

/** When the file is due by age alone. */
export const dueByAge = (file: ExpiryFacts, days: number) => Number(file.created_at) + days * DAY_MS;

/**
 * Whether the notice already given covers the current due time: one sent less than a day before
 * it, or after it. A notice older than that was for an earlier, shorter choice that has since been
 * lengthened; the new due time earns a new notice.
 */
function noticeCovers(file: ExpiryFacts, due: number): file is ExpiryFacts & { expiry_warned_at: number } {
  const warned = file.expiry_warned_at ?? null;
  return warned !== null && Number(warned) >= due - DAY_MS;
}

/** When the file will be deleted, or null when it is kept. */
export function expiresAt(file: ExpiryFacts, days: number | undefined, now: number): number | null {
  if (days === undefined) return null;
  const due = dueByAge(file, days);
  if (noticeCovers(file, due)) return Math.max(due, Number(file.expiry_warned_at) + DAY_MS);
  // No notice yet: it goes out at the next sweep, and the file a day after that at the earliest.
  return Math.max(due, now + DAY_MS);
}

export type RetentionStep =
  /** Tell the owner now, under this key (one notice per file and due time, however often asked). */
  | { action: 'notify'; dedupeKey: string; deleteAt: number }
  /** Past its time: delete it (unless a job is working on it). */
  | { action: 'delete' }
  | { action: 'wait' };

/** What the sweep does with one file at `now`. */
export function retentionStep(file: ExpiryFacts & { id: string }, days: number | undefined, now: number): RetentionStep {
  if (days === undefined) return { action: 'wait' };
  const due = dueByAge(file, days);
  if (noticeCovers(file, due)) {
    return now >= Math.max(due, Number(file.expiry_warned_at) + DAY_MS) ? { action: 'delete' } : { action: 'wait' };
  }
  if (now < due - DAY_MS) return { action: 'wait' };
  return { action: 'notify', dedupeKey: `retention:${file.id}:${due}`, deleteAt: Math.max(due, now + DAY_MS) };
}

/**
 * Files created at or before this instant may need a notice or deletion under `days`: the sweep's
 * query bound (a notice is due a day before the file is).
 */
export const sweepCutoff = (days: number, now: number) => now - (days - 1) * DAY_MS;

/**
 * A user's choice from a request: null (or absent) means "the instance's setting"; otherwise a
 * whole number of days from 1 to RETENTION_DAYS when the instance sets it, to 36,500 otherwise.
 * A choice is allowed without an instance setting: retention is "within it" only when it exists.
 */
export function parseRetentionChoice(raw: unknown, instanceDays: number | undefined): number | null {
  if (raw === null || raw === undefined || raw === '') return null;
  const max = instanceDays ?? UNLIMITED_CHOICE_MAX;
  const value = typeof raw === 'string' && /^\d{1,6}$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    const limit = instanceDays === undefined ? `${max}` : `${max} (this server's RETENTION_DAYS)`;
    throw new AppError('invalid_retention', 422, `"days" must be a whole number of days from 1 to ${limit}, or null for the server's setting.`, { field: 'days' });
  }
  return value;
}
