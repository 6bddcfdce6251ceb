import type { Deps, PushEvent, Store } from './ports.ts';

/**
 * Live events are saved first and pushed second: the row gives each event its id, and lets a
 * stream that reconnects with Last-Event-ID replay what it missed. Inside a transaction, save
 * with `recordEvent` and push with `pushEvents` after the commit.
 */
export async function recordEvent(
  tx: Store,
  deps: Pick<Deps, 'now'>,
  userId: string,
  type: PushEvent['type'],
  data: object,
): Promise<{ userId: string; event: PushEvent }> {
  const id = await tx.events.insert({ userId, type, data, createdAt: deps.now() });
  return { userId, event: { id, type, data } };
}

export function pushEvents(deps: Pick<Deps, 'push'>, events: readonly { userId: string; event: PushEvent }[]): void {
  for (const { userId, event } of events) deps.push.publish(userId, event);
}

/** Saves and pushes one event outside any transaction. */
export async function emit(deps: Pick<Deps, 'store' | 'push' | 'now'>, userId: string, type: PushEvent['type'], data: object): Promise<void> {
  pushEvents(deps, [await recordEvent(deps.store, deps, userId, type, data)]);
}

/** Events older than this are not replayed; a client gone that long reloads its page anyway. */
export const EVENT_RETENTION_MS = 24 * 3600_000;
