/**
 * Pausing the whole instance's job claiming. The flag is a row in the shared database, so every
 * worker process (embedded pools and graphile-worker pools alike) sees it before its next claim;
 * see docs/decisions/0022-administrators.md.
 */
import type { Deps } from './ports.ts';

/** The instance_state row whose presence means claiming is paused; its value says who paused it. */
export const QUEUE_PAUSED = 'queue_paused';

/** graphile-worker flag every job carries, forbidden to workers while paused. */
export const PAUSABLE_FLAG = 'pausable';

export interface PauseState {
  paused: boolean;
  /** Who paused it and when, while paused. */
  by: string | null;
  since: string | null;
}

export async function pauseState(deps: Pick<Deps, 'store'>): Promise<PauseState> {
  const value = await deps.store.instance.get(QUEUE_PAUSED);
  if (value === undefined) return { paused: false, by: null, since: null };
  const parsed = parseValue(value);
  return { paused: true, by: parsed.by, since: parsed.since };
}

const parseValue = (value: string): { by: string | null; since: string | null } => {
  try {
    const v = JSON.parse(value) as { by?: unknown; since?: unknown };
    return { by: typeof v.by === 'string' ? v.by : null, since: typeof v.since === 'string' ? v.since : null };
  } catch {
    return { by: null, since: null };
  }
};

export const pausedValue = (by: string, now: number) => JSON.stringify({ by, since: new Date(now).toISOString() });
