import type pg from 'pg';
import type { Logger } from '../log.ts';
import { VERSION } from '../version.ts';

export const HEARTBEAT_MS = 5_000;
export const SILENT_AFTER_MS = 30_000;

export interface Liveness {
  stop(): Promise<void>;
}

/**
 * graphile-worker keeps the jobs of a worker that died without unlocking them (SIGKILL, power
 * loss) locked for four hours. Each worker pool therefore heartbeats a row here, and every
 * process sweeps: pools silent for 30 s have their jobs released with graphile-worker's own
 * `force_unlock_workers`, followed by the NOTIFY that wakes idle workers at once.
 */
export function startLiveness(pool: pg.Pool, log: Logger, me: { poolId: string; host: string; pid: number; slots: number }): Liveness {
  const beat = () =>
    pool
      .query(
        `INSERT INTO worker_heartbeats (pool_id, host, pid, last_seen, version, slots) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (pool_id) DO UPDATE SET last_seen = EXCLUDED.last_seen`,
        [me.poolId, me.host, me.pid, Date.now(), VERSION, me.slots],
      )
      .catch((err: unknown) => log.warn({ err }, 'worker heartbeat failed'));
  void beat();
  const timer = setInterval(() => void beat(), HEARTBEAT_MS);
  return {
    async stop() {
      clearInterval(timer);
      await pool.query('DELETE FROM worker_heartbeats WHERE pool_id = $1', [me.poolId]).catch(() => undefined);
    },
  };
}

/** Releases the jobs of silent pools. Returns the pool ids it released. */
export async function sweepSilentWorkers(pool: pg.Pool, now = Date.now()): Promise<string[]> {
  const { rows } = await pool.query<{ pool_id: string }>('SELECT pool_id FROM worker_heartbeats WHERE last_seen < $1', [now - SILENT_AFTER_MS]);
  const ids = rows.map((r) => r.pool_id);
  if (ids.length === 0) return [];
  await pool.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [ids]);
  await pool.query('DELETE FROM worker_heartbeats WHERE pool_id = ANY($1::text[])', [ids]);
  // force_unlock_workers sends no NOTIFY; without this the jobs wait for the next poll.
  await pool.query(`SELECT pg_notify('jobs:insert', '')`);
  return ids;
}

/** Runs the sweep every few seconds in any process that shares the database. */
export function startSweeper(pool: pg.Pool, log: Logger): () => void {
  const timer = setInterval(() => {
    sweepSilentWorkers(pool).then(
      (ids) => ids.length > 0 && log.warn({ workers: ids }, 'released the jobs of silent workers'),
      (err: unknown) => log.warn({ err }, 'worker sweep failed'),
    );
  }, HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}
