import { sql, type Kysely } from 'kysely';
import type { Database, JobRow } from '../db/schema.ts';

/**
 * The embedded queue's table and its claim protocol. This belongs to the queue backend, not to
 * the domain Store: domain code only ever enqueues, through the JobQueue port.
 */
export interface JobTable {
  /** Adds a job inside `db` (the caller's open transaction); a key replaces a queued twin. */
  insert(db: Kysely<Database>, job: { name: string; payload: unknown; key: string | null; runAt: number; createdAt: number; priority: number; owner: string | null }): Promise<void>;
  /** Removes a job with this key that has not started. Running ones notice by their own means. */
  removeQueued(db: Kysely<Database>, key: string): Promise<void>;
  /**
   * Atomically takes a runnable job, or returns undefined: jobs of users who run fewer than `cap`
   * jobs first, then by lowest priority, oldest first (the work-conserving cap of decision 0024).
   */
  claim(workerId: string, now: number, staleBefore: number, names: readonly string[], cap: number): Promise<JobRow | undefined>;
  /** Encode slots of the pools heard from since `since` (see WorkerHeartbeatsTable.slots). */
  liveSlots(since: number): Promise<number>;
  heartbeat(workerIds: readonly string[], now: number): Promise<void>;
  remove(id: number): Promise<void>;
  release(id: number, runAt: number): Promise<void>;
  releaseHeldBy(workerIds: readonly string[]): Promise<number>;
  runningLockHolders(): Promise<string[]>;
  /** Every job name present, for the start-up check that each has a handler. */
  names(): Promise<string[]>;
}

/** Which worker holds each running job, by job key (what the admin area shows per job). */
export async function embeddedHolders(db: Kysely<Database>): Promise<Map<string, string>> {
  const rows = await db.selectFrom('jobs').select(['key', 'locked_by']).where('state', '=', 'running').where('key', 'is not', null).where('locked_by', 'is not', null).execute();
  return new Map(rows.flatMap((r) => (r.key && r.locked_by ? [[r.key, r.locked_by] as const] : [])));
}

export function jobTable(root: Kysely<Database>): JobTable {
  return {
    async insert(db, j) {
      if (j.key !== null) await db.deleteFrom('jobs').where('key', '=', j.key).where('state', '=', 'queued').execute();
      await db
        .insertInto('jobs')
        .values({
          name: j.name,
          payload: JSON.stringify(j.payload),
          key: j.key,
          state: 'queued',
          attempts: 0,
          locked_by: null,
          heartbeat_at: null,
          run_at: j.runAt,
          created_at: j.createdAt,
          priority: j.priority,
          user_id: j.owner,
        })
        .execute();
    },
    async removeQueued(db, key) {
      await db.deleteFrom('jobs').where('key', '=', key).where('state', '=', 'queued').execute();
    },
    claim(workerId, now, staleBefore, names, cap) {
      // One statement, so two pools sharing the database can never take the same job, and the
      // count of an owner's running jobs cannot change between reading it and claiming.
      const ownerAtCap = sql<number>`CASE WHEN c.user_id IS NOT NULL AND (SELECT count(*) FROM jobs AS r WHERE r.user_id = c.user_id AND r.state = 'running' AND r.heartbeat_at >= ${staleBefore}) >= ${cap} THEN 1 ELSE 0 END`;
      return root
        .updateTable('jobs')
        .set((eb) => ({ state: 'running', locked_by: workerId, heartbeat_at: now, attempts: eb('attempts', '+', 1) }))
        .where('id', '=', (eb) =>
          eb
            .selectFrom('jobs as c')
            .select('c.id')
            .where('c.name', 'in', names)
            .where((w) =>
              w.or([
                w.and([w('c.state', '=', 'queued'), w('c.run_at', '<=', now)]),
                w.and([w('c.state', '=', 'running'), w('c.heartbeat_at', '<', staleBefore)]),
              ]),
            )
            .orderBy(ownerAtCap)
            .orderBy('c.priority')
            .orderBy('c.run_at')
            .orderBy('c.id')
            .limit(1),
        )
        .returningAll()
        .executeTakeFirst();
    },
    async liveSlots(since) {
      const row = await root.selectFrom('worker_heartbeats').select((eb) => eb.fn.sum<number | string | null>('slots').as('slots')).where('last_seen', '>=', since).executeTakeFirst();
      return Number(row?.slots ?? 0);
    },
    async heartbeat(workerIds, now) {
      if (workerIds.length === 0) return;
      await root.updateTable('jobs').set({ heartbeat_at: now }).where('locked_by', 'in', workerIds).execute();
    },
    async remove(id) {
      await root.deleteFrom('jobs').where('id', '=', id).execute();
    },
    async release(id, runAt) {
      await root.updateTable('jobs').set({ state: 'queued', locked_by: null, heartbeat_at: null, run_at: runAt }).where('id', '=', id).execute();
    },
    async releaseHeldBy(workerIds) {
      if (workerIds.length === 0) return 0;
      const result = await root
        .updateTable('jobs')
        .set({ state: 'queued', locked_by: null, heartbeat_at: null })
        .where('state', '=', 'running')
        .where('locked_by', 'in', workerIds)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async runningLockHolders() {
      const rows = await root.selectFrom('jobs').select('locked_by').distinct().where('state', '=', 'running').execute();
      return rows.flatMap((r) => (r.locked_by ? [r.locked_by] : []));
    },
    async names() {
      const rows = await root.selectFrom('jobs').select('name').distinct().execute();
      return rows.map((r) => r.name);
    },
  };
}
