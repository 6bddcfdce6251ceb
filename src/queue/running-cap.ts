import { transcodeJobNames } from '../jobs/definitions.ts';

/**
 * The per-user cap on running jobs (decision 0024). It is work-conserving: a user who already
 * runs `cap` jobs is not refused a slot, only put behind every runnable job of a user below the
 * cap. Alone on an instance a user still fills every slot; as soon as another user waits, the
 * busy user's surplus no longer takes the slots that free up.
 */

/** The cap: the setting when set (> 0), else half the slots, at least 1. */
export function runningCap(setting: number, slots: number): number {
  if (setting > 0) return setting;
  return Math.max(1, Math.floor(slots / 2));
}

/** Owned jobs are the encoding ones; a pool taking any of them brings its slots to the sum. */
export function encodeSlots(concurrency: number, names: readonly string[]): number {
  return names.some((n) => (transcodeJobNames as readonly string[]).includes(n)) ? concurrency : 0;
}

/** graphile-worker flag naming a job's owner (its flags are the only per-job field a fetch can skip on). */
export const ownerFlag = (userId: string) => `u:${userId}`;
