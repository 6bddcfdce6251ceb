import type { Kysely } from 'kysely';
import type { RetentionRepo } from '../../domain/ports.ts';
import type { Database } from '../schema.ts';

const candidateColumns = ['files.id', 'files.user_id', 'files.name', 'files.status', 'files.created_at', 'files.expiry_warned_at'] as const;

export function retentionRepo(db: Kysely<Database>): RetentionRepo {
  return {
    async choiceOf(userId) {
      const row = await db.selectFrom('users').select('retention_days').where('id', '=', userId).executeTakeFirst();
      return row?.retention_days ?? null;
    },
    async setChoice(userId, days) {
      await db.updateTable('users').set({ retention_days: days }).where('id', '=', userId).execute();
    },
    async choices() {
      const rows = await db.selectFrom('users').select(['id', 'retention_days']).where('retention_days', 'is not', null).execute();
      return rows.flatMap((r) => (r.retention_days === null ? [] : [{ userId: r.id, days: Number(r.retention_days) }]));
    },
    async candidates({ before, userId, after, limit }) {
      let query = db.selectFrom('files').innerJoin('users', 'users.id', 'files.user_id').select(candidateColumns).where('files.created_at', '<=', before);
      query = userId === undefined ? query.where('users.retention_days', 'is', null) : query.where('files.user_id', '=', userId);
      if (after) {
        query = query.where((eb) =>
          eb.or([eb('files.created_at', '>', after.createdAt), eb.and([eb('files.created_at', '=', after.createdAt), eb('files.id', '>', after.id)])]),
        );
      }
      const rows = await query.orderBy('files.created_at').orderBy('files.id').limit(limit).execute();
      return rows.map((r) => ({ ...r, created_at: Number(r.created_at), expiry_warned_at: r.expiry_warned_at === null ? null : Number(r.expiry_warned_at) }));
    },
    async markWarned(fileId, at) {
      await db.updateTable('files').set({ expiry_warned_at: at }).where('id', '=', fileId).execute();
    },
    async deleteIfIdle(fileId) {
      // One statement: a job that starts meanwhile either sees the row gone or keeps it.
      const result = await db.deleteFrom('files').where('id', '=', fileId).where('status', 'not in', ['queued', 'running']).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
