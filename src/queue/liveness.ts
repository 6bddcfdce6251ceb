import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import type { Logger } from '../log.ts';
import { VERSION } from '../version.ts';

/**
 * Beat every 2 s; silent for 10 s means dead; sweep every 2 s. A SIGKILLed pool's jobs are
 * therefore released at most ~12 s after its last beat (plus the NOTIFY's few milliseconds),
 * well inside issue 12's 30 s. Five beats must go missing before a pool counts as dead, and the
 * beats run on their own thread and connection, so a busy main thread cannot cause that.
 */
export const HEARTBEAT_MS = 2_000;
export const SILENT_AFTER_MS = 10_000;
export const SWEEP_EVERY_MS = 2_000;

export interface Liveness {
  stop(): Promise<void>;
}

/**
 * graphile-worker keeps the jobs of a worker that died without unlocking them (SIGKILL, power
 * loss) locked for four hours. Each worker pool therefore heartbeats a row here, and every
 * process sweeps: pools silent for SILENT_AFTER_MS have their jobs released with graphile-worker's
 * own `force_unlock_workers`, followed by the NOTIFY that wakes idle workers at once.
 *
 * The beat runs on a worker thread with its own connection: a segment join checksums hundreds of
 * megabytes synchronously (measured ~3 s per 100 MiB here under load), which would hold up a
 * timer on the main thread past the silence threshold and get a live pool's jobs run twice.
 */
export function startLiveness(pool: pg.Pool, log: Logger, me: { poolId: string; host: string; pid: number; slots: number }): Liveness {
  const connectionString = pool.options.connectionString;
  if (!connectionString) throw new Error('the worker heartbeat needs the pool to be opened with a connection string');
  const thread = new Worker(new URL('./heartbeat-thread.mjs', import.meta.url), {
    workerData: { connectionString, ...me, version: VERSION, intervalMs: HEARTBEAT_MS },
  });
  // The heartbeat alone must not keep a process alive that has nothing else to do.
  thread.unref();
  thread.on('message', (message: { warn?: string }) => {
    if (message.warn) log.warn({ reason: message.warn, workerId: me.poolId }, 'worker heartbeat failed');
  });
  thread.on('error', (err) => log.error({ err, workerId: me.poolId }, 'worker heartbeat thread crashed'));
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  return {
    async stop() {
      thread.postMessage('stop');
      // The thread removes its row, then ends; one that cannot is ended after a while.
      const force = setTimeout(() => void thread.terminate(), 5_000);
      await exited;
      clearTimeout(force);
    },
  };
}

/** Releases the jobs of silent pools. Returns the pool ids it released. */
export async function sweepSilentWorkers(pool: pg.Pool): Promise<string[]> {
  // Compared on the database's clock, the one heartbeats are written with: no skew between hosts.
  const { rows } = await pool.query<{ pool_id: string }>(
    'SELECT pool_id FROM worker_heartbeats WHERE last_seen < (extract(epoch from clock_timestamp()) * 1000)::bigint - $1',
    [SILENT_AFTER_MS],
  );
  const ids = rows.map((r) => r.pool_id);
  if (ids.length === 0) return [];
  await pool.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [ids]);
  await pool.query('DELETE FROM worker_heartbeats WHERE pool_id = ANY($1::text[])', [ids]);
  // force_unlock_workers sends no NOTIFY; without this the jobs wait for the next poll.
  await wakeIdleWorkers(pool);
  return ids;
}

/**
 * Wakes every idle worker of every pool at once. graphile-worker nudges as many idle workers as
 * the notification's `count` says, and one when it says nothing: after a resume or a release of
 * many jobs, the other slots would wait for their next poll.
 */
export async function wakeIdleWorkers(pool: pg.Pool): Promise<void> {
  await pool.query(`SELECT pg_notify('jobs:insert', '{"count":1000000}')`);
}

/** Runs the sweep every SWEEP_EVERY_MS in any process that shares the database. */
export function startSweeper(pool: pg.Pool, log: Logger): () => void {
  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    sweepSilentWorkers(pool)
      .then(
        (ids) => ids.length > 0 && log.warn({ workers: ids }, 'released the jobs of silent workers'),
        (err: unknown) => log.warn({ err }, 'worker sweep failed'),
      )
      .finally(() => {
        sweeping = false;
      });
  }, SWEEP_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
