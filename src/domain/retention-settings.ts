import { RETENTION_SWEEP_KEY } from '../jobs/definitions.ts';
import { effectiveDays, expiresAt, parseRetentionChoice, UNLIMITED_CHOICE_MAX, type ExpiryFacts } from './retention.ts';
import type { Deps, Store } from './ports.ts';

/** What decides when one user's files go, at one instant: enough to compute any file's expiry. */
export interface RetentionPolicy {
  /** Days the user's files are kept; undefined: until deleted. */
  days: number | undefined;
  now: number;
}

/** The owner's policy now; `store` may be an open transaction. */
export async function retentionPolicy(deps: Pick<Deps, 'store' | 'config' | 'now'>, userId: string, store: Store = deps.store): Promise<RetentionPolicy> {
  return { days: effectiveDays(await store.retention.choiceOf(userId), deps.config.retentionDays), now: deps.now() };
}

/** When the file will be deleted under the policy (epoch ms), or null. */
export const fileExpiry = (policy: RetentionPolicy | undefined, file: ExpiryFacts) => (policy ? expiresAt(file, policy.days, policy.now) : null);

/** The retention setting as the settings page and the API show it. */
export interface RetentionSetting {
  /** The user's own choice; null: the server's setting. */
  days: number | null;
  /** RETENTION_DAYS; null: the server keeps files until they are deleted. */
  instanceDays: number | null;
  /** What applies: the choice, capped by the server's; null: files are kept. */
  effectiveDays: number | null;
  /** The largest choice accepted. */
  maxDays: number;
}

export async function getRetentionSetting(deps: Pick<Deps, 'store' | 'config'>, userId: string): Promise<RetentionSetting> {
  const days = await deps.store.retention.choiceOf(userId);
  const instance = deps.config.retentionDays;
  return { days, instanceDays: instance ?? null, effectiveDays: effectiveDays(days, instance) ?? null, maxDays: instance ?? UNLIMITED_CHOICE_MAX };
}

/**
 * Saves the user's choice and runs a sweep at once, so that files a shorter choice makes due get
 * their notice now (and go a day later), not at the next scheduled sweep.
 */
export async function setRetentionSetting(deps: Pick<Deps, 'store' | 'config'>, userId: string, raw: unknown): Promise<RetentionSetting> {
  const days = parseRetentionChoice(raw, deps.config.retentionDays);
  await deps.store.transaction(async (tx) => {
    await tx.retention.setChoice(userId, days);
    await tx.jobs.enqueue({ name: 'retention.sweep', payload: {} }, { key: RETENTION_SWEEP_KEY });
  });
  return getRetentionSetting(deps, userId);
}
