import type pg from 'pg';

/**
 * The per-user running cap over graphile-worker's own table (decision 0024), in one statement:
 * the owner flags (`u:<userId>`) of users who run at least `cap` jobs, returned only while some
 * user below the cap has a job ready to run. Skipping those flags for one fetch puts the busy
 * users' surplus behind the others without ever leaving a slot idle when only they have work.
 *
 * The cap is the setting, or half the encode slots of the pools heard from lately (at least
 * this process's own), at least 1 — the same rule as `runningCap`, written in SQL so that the
 * heartbeat sum and the job counts are read at one moment.
 */
const CAPPED_OWNERS = `
WITH cap AS (
  SELECT CASE WHEN $1::int > 0 THEN $1::int
              ELSE greatest(1, greatest($2::int, coalesce(sum(slots), 0)::int) / 2) END AS n
    FROM worker_heartbeats WHERE last_seen >= $3
),
owned AS (
  SELECT k AS flag, j.locked_at IS NOT NULL AS running, (j.is_available AND j.run_at <= now()) AS ready
    FROM graphile_worker._private_jobs AS j, jsonb_object_keys(j.flags) AS k
   WHERE j.flags IS NOT NULL AND k LIKE 'u:%' AND j.id <> ALL($4::bigint[])
),
per_owner AS (
  SELECT flag, count(*) FILTER (WHERE running) AS running, bool_or(ready) AS waiting FROM owned GROUP BY flag
)
SELECT p.flag FROM per_owner AS p, cap
 WHERE p.running >= cap.n
   AND EXISTS (SELECT 1 FROM per_owner AS o WHERE o.waiting AND o.running < cap.n)`;

/**
 * `finished`: ids of jobs whose task has returned in this process. graphile-worker records a
 * job's completion without waiting for it before the next fetch, so the finished job still
 * looks locked (running) for a moment; counted, it would hide that its owner fell below the cap.
 */
export async function cappedOwnerFlags(pool: pg.Pool, opts: { setting: number; localSlots: number; liveSince: number; finished?: readonly string[] }): Promise<string[]> {
  const { rows } = await pool.query<{ flag: string }>(CAPPED_OWNERS, [opts.setting, opts.localSlots, opts.liveSince, opts.finished ?? []]);
  return rows.map((r) => r.flag);
}
