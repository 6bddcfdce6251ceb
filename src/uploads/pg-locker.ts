import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/utils';
import type pg from 'pg';
import type { Logger } from '../log.ts';

/** First half of every advisory-lock key we take: keeps ours apart from other users of the database. */
const NAMESPACE = 0x7475_7300 | 1; // "tus" + 1
const RELEASE_CHANNEL = 'reprise_tus_release';
const RETRY_MS = 100;

export interface PgLockerOptions {
  newClient: () => pg.Client;
  log: Logger;
  /** How long a request waits for an upload another request holds. */
  acquireTimeoutMs?: number;
}

/**
 * A tus locker shared by every web process through PostgreSQL: one upload's requests run one at
 * a time whichever process they reach. Locks are session advisory locks on one connection of
 * this process, so they go away with the process if it dies. A request that finds the upload
 * locked asks the holder to let go (NOTIFY; tus then ends the holder's request, which keeps what
 * it received), as tus's in-memory locker does within one process, and retries until it gets it.
 * Advisory locks are re-entrant within a session, so holders in this process are tracked here.
 */
export function createPgLocker(opts: PgLockerOptions): Locker & { start(): Promise<void>; stop(): Promise<void> } {
  const held = new Map<string, RequestRelease>();
  const timeoutMs = opts.acquireTimeoutMs ?? 30_000;
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  let stopped = false;

  const connect = async () => {
    const c = opts.newClient();
    // A dropped connection drops its locks too: the next request opens a new one.
    c.on('error', (err) => {
      opts.log.warn({ err }, 'upload lock connection lost');
      if (client === c) client = undefined;
    });
    c.on('notification', (msg) => {
      const release = msg.channel === RELEASE_CHANNEL && msg.payload ? held.get(msg.payload) : undefined;
      if (release) Promise.resolve(release()).catch((err: unknown) => opts.log.warn({ err }, 'releasing an upload lock failed'));
    });
    await c.connect();
    await c.query(`LISTEN ${RELEASE_CHANNEL}`);
    client = c;
    return c;
  };
  const connection = async () => {
    if (client) return client;
    connecting ??= connect().finally(() => (connecting = undefined));
    return connecting;
  };
  const query = async (text: string, values: unknown[]) => (await connection()).query<{ ok: boolean }>(text, values);
  const tryLock = async (id: string) => (await query('SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS ok', [NAMESPACE, id])).rows[0]?.ok === true;
  const askRelease = (id: string) => query('SELECT pg_notify($1, $2)', [RELEASE_CHANNEL, id]);

  const newLock = (id: string): Lock => ({
    async lock(signal, requestRelease) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (signal.aborted) throw ERRORS.ERR_LOCK_TIMEOUT;
        const local = held.get(id);
        if (local) await local();
        else if (await tryLock(id)) {
          held.set(id, requestRelease);
          return;
        } else await askRelease(id);
        if (Date.now() > deadline) throw ERRORS.ERR_LOCK_TIMEOUT;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    },
    async unlock() {
      if (!held.delete(id)) return;
      await query('SELECT pg_advisory_unlock($1::int, hashtext($2)) AS ok', [NAMESPACE, id]).catch((err: unknown) =>
        opts.log.warn({ err, uploadId: id }, 'could not unlock an upload'),
      );
    },
  });

  return {
    newLock,
    async start() {
      if (!stopped) await connection();
    },
    async stop() {
      stopped = true;
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
