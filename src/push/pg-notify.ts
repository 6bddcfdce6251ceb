import type pg from 'pg';
import type { EventsRepo, PushEvent, PushHub } from '../domain/ports.ts';
import type { Logger } from '../log.ts';
import { createMemoryPushHub } from './memory.ts';

const CHANNEL = 'reprise_events';

interface Wire {
  u: string;
  i: number;
}

/**
 * Push across processes through PostgreSQL LISTEN/NOTIFY. A notification carries only the user
 * and event id (NOTIFY payloads are small and untyped); each process reads the event row itself
 * and hands it to its local subscribers. After a lost connection (PostgreSQL restarted) the hub
 * reconnects and replays, from the events table, what its subscribers missed meanwhile.
 */
export function createPgPushHub(opts: {
  pool: pg.Pool;
  newClient(): pg.Client;
  events: EventsRepo;
  log: Logger;
}): PushHub & { start(): Promise<void>; stop(): Promise<void> } {
  const local = createMemoryPushHub();
  const subscribers = new Map<string, number>();
  const lastSeen = new Map<string, number>();
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  // Ids already handed on, per user. NOTIFYs arrive in commit order, which is not always id
  // order (an event is published after its transaction commits, and two transactions can commit
  // the other way round), so each NOTIFY reads everything from the lower of its id and what was
  // last seen, and hands on only what is new — in id order.
  const delivered = new Map<string, Set<number>>();
  const deliver = (userId: string, event: PushEvent) => {
    const seen = delivered.get(userId) ?? new Set<number>();
    delivered.set(userId, seen);
    if (seen.has(event.id)) return;
    seen.add(event.id);
    if (seen.size > 1000) seen.delete(seen.values().next().value as number);
    lastSeen.set(userId, Math.max(lastSeen.get(userId) ?? 0, event.id));
    local.publish(userId, event);
  };

  // One chain per user, so that reads for one user never overtake each other.
  const chains = new Map<string, Promise<void>>();
  function fetchAndDeliver(userId: string, afterId: number): Promise<void> {
    const next = (chains.get(userId) ?? Promise.resolve()).then(async () => {
      for (const event of await opts.events.listSince(userId, afterId, 500)) deliver(userId, event);
    });
    const settled = next.catch(() => undefined);
    chains.set(userId, settled);
    void settled.then(() => chains.get(userId) === settled && chains.delete(userId));
    return next;
  }

  async function connect(): Promise<void> {
    const c = opts.newClient();
    c.on('error', (err) => opts.log.warn({ err }, 'push listener connection lost'));
    c.on('end', () => {
      if (client === c) client = undefined;
      if (!stopped) scheduleReconnect();
    });
    c.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || !msg.payload) return;
      const { u, i } = JSON.parse(msg.payload) as Wire;
      if (!subscribers.has(u)) return;
      fetchAndDeliver(u, Math.min(i - 1, lastSeen.get(u) ?? i - 1)).catch((err: unknown) => opts.log.warn({ err }, 'could not read pushed event'));
    });
    await c.connect();
    await c.query(`LISTEN ${CHANNEL}`);
    client = c;
    // Whatever was published while we were not listening is in the table: replay it.
    await Promise.all([...subscribers.keys()].map((u) => fetchAndDeliver(u, lastSeen.get(u) ?? Number.MAX_SAFE_INTEGER)));
  }

  function scheduleReconnect(delayMs = 1000): void {
    if (retry || stopped) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch((err: unknown) => {
        opts.log.warn({ err }, 'push listener reconnect failed; retrying');
        scheduleReconnect(Math.min(delayMs * 2, 10_000));
      });
    }, delayMs);
  }

  return {
    publish(userId, event) {
      opts.pool
        .query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ u: userId, i: event.id } satisfies Wire)])
        .catch((err: unknown) => opts.log.warn({ err }, 'could not publish event'));
    },
    subscribe(userId, listener) {
      subscribers.set(userId, (subscribers.get(userId) ?? 0) + 1);
      if (!lastSeen.has(userId)) {
        opts.events.latestId(userId).then(
          (id) => lastSeen.set(userId, Math.max(lastSeen.get(userId) ?? 0, id)),
          () => undefined,
        );
      }
      const unsubscribe = local.subscribe(userId, listener);
      return () => {
        unsubscribe();
        const left = (subscribers.get(userId) ?? 1) - 1;
        if (left > 0) subscribers.set(userId, left);
        else {
          subscribers.delete(userId);
          lastSeen.delete(userId);
          delivered.delete(userId);
        }
      };
    },
    start: connect,
    async stop() {
      stopped = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
