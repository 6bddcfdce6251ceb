import type { Kysely } from 'kysely';
import type { JobsRepo } from '../../domain/ports.ts';
import type { Database } from '../schema.ts';

/** The embedded queue's table. (The scale-out queue keeps its jobs in graphile-worker instead.) */
export function jobsRepo(db: Kysely<Database>): JobsRepo {
  return {
    async insert(j) {
      await db
        .insertInto('jobs')
        .values({
          file_id: j.fileId,
          generation: j.generation,
          state: 'queued',
          attempts: 0,
          locked_by: null,
          heartbeat_at: null,
          run_at: j.runAt,
          created_at: j.createdAt,
        })
        .execute();
    },
    claim(workerId, now, staleBefore) {
      // One statement, so two pools sharing the file can never take the same job.
      return db
        .updateTable('jobs')
        .set((eb) => ({
          state: 'running',
          locked_by: workerId,
          heartbeat_at: now,
          attempts: eb('attempts', '+', 1),
        }))
        .where('id', '=', (eb) =>
          eb
            .selectFrom('jobs')
            .select('id')
            .where((w) =>
              w.or([
                w.and([w('state', '=', 'queued'), w('run_at', '<=', now)]),
                w.and([w('state', '=', 'running'), w('heartbeat_at', '<', staleBefore)]),
              ]),
            )
            .orderBy('run_at')
            .orderBy('id')
            .limit(1),
        )
        .returningAll()
        .executeTakeFirst();
    },
    async heartbeat(workerIds, now) {
      if (workerIds.length === 0) return;
      await db.updateTable('jobs').set({ heartbeat_at: now }).where('locked_by', 'in', workerIds).execute();
    },
    async remove(id) {
      await db.deleteFrom('jobs').where('id', '=', id).execute();
    },
    async release(id, runAt) {
      await db
        .updateTable('jobs')
        .set({ state: 'queued', locked_by: null, heartbeat_at: null, run_at: runAt })
        .where('id', '=', id)
        .execute();
    },
    async releaseHeldBy(workerIds) {
      if (workerIds.length === 0) return 0;
      const result = await db
        .updateTable('jobs')
        .set({ state: 'queued', locked_by: null, heartbeat_at: null })
        .where('state', '=', 'running')
        .where('locked_by', 'in', workerIds)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async runningLockHolders() {
      const rows = await db.selectFrom('jobs').select('locked_by').distinct().where('state', '=', 'running').execute();
      return rows.flatMap((r) => (r.locked_by ? [r.locked_by] : []));
    },
    async deleteForFile(fileId) {
      await db.deleteFrom('jobs').where('file_id', '=', fileId).execute();
    },
  };
}
