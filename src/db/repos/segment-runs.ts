import type { Kysely } from 'kysely';
import type { SegmentRunsRepo } from '../../domain/ports.ts';
import type { SegmentedPlan } from '../../domain/segmented/plan.ts';
import type { Database } from '../schema.ts';

export function segmentRunsRepo(db: Kysely<Database>): SegmentRunsRepo {
  return {
    async create({ fileId, generation, plan, createdAt }) {
      await db.insertInto('segment_runs').values({ file_id: fileId, generation, plan: JSON.stringify(plan), remaining: plan.parts.length, created_at: createdAt }).execute();
      await db
        .insertInto('segment_parts')
        .values(plan.parts.map((_, part) => ({ file_id: fileId, generation, part, progress: 0, done: 0 })))
        .execute();
    },
    async find(fileId, generation) {
      const row = await db.selectFrom('segment_runs').select(['plan', 'created_at']).where('file_id', '=', fileId).where('generation', '=', generation).executeTakeFirst();
      return row && { plan: JSON.parse(row.plan) as SegmentedPlan, createdAt: Number(row.created_at) };
    },
    async setPartProgress(fileId, generation, part, progress) {
      await db
        .updateTable('segment_parts')
        .set({ progress })
        .where('file_id', '=', fileId)
        .where('generation', '=', generation)
        .where('part', '=', part)
        .execute();
    },
    async partProgress(fileId, generation) {
      const rows = await db.selectFrom('segment_parts').select(['part', 'progress', 'done']).where('file_id', '=', fileId).where('generation', '=', generation).execute();
      return new Map(rows.map((r) => [Number(r.part), Number(r.done) ? 100 : Number(r.progress)]));
    },
    async finishPart(fileId, generation, part) {
      const marked = await db
        .updateTable('segment_parts')
        .set({ done: 1, progress: 100 })
        .where('file_id', '=', fileId)
        .where('generation', '=', generation)
        .where('part', '=', part)
        .where('done', '=', 0)
        .executeTakeFirst();
      if (Number(marked.numUpdatedRows) === 0) return 'gone';
      // One row for the whole run: PostgreSQL makes a concurrent decrement wait for this
      // transaction and then re-reads the row, SQLite has one writer; either way exactly one
      // transaction sees the count reach zero.
      const row = await db
        .updateTable('segment_runs')
        .set((eb) => ({ remaining: eb('remaining', '-', 1) }))
        .where('file_id', '=', fileId)
        .where('generation', '=', generation)
        .returning('remaining')
        .executeTakeFirst();
      if (!row) return 'gone';
      return Number(row.remaining) === 0 ? 'last' : 'more';
    },
    async doneParts(fileId, generation) {
      const rows = await db.selectFrom('segment_parts').select('part').where('file_id', '=', fileId).where('generation', '=', generation).where('done', '=', 1).execute();
      return new Set(rows.map((r) => Number(r.part)));
    },
    async raiseFileProgress(fileId, generation, progress) {
      await db
        .updateTable('files')
        .set({ progress })
        .where('id', '=', fileId)
        .where('generation', '=', generation)
        .where('status', '=', 'running')
        .where('progress', '<', progress)
        .execute();
    },
    async remove(fileId, generation) {
      let parts = db.deleteFrom('segment_parts').where('file_id', '=', fileId);
      let runs = db.deleteFrom('segment_runs').where('file_id', '=', fileId);
      if (generation !== undefined) {
        parts = parts.where('generation', '=', generation);
        runs = runs.where('generation', '=', generation);
      }
      await parts.execute();
      await runs.execute();
    },
  };
}
