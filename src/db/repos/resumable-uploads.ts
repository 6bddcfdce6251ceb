import type { Kysely } from 'kysely';
import type { ResumableUploadsRepo } from '../../domain/ports.ts';
import type { Database } from '../schema.ts';

export function resumableUploadsRepo(db: Kysely<Database>): ResumableUploadsRepo {
  return {
    async insert(row) {
      await db.insertInto('resumable_uploads').values(row).execute();
    },
    async ownerOf(id) {
      const row = await db.selectFrom('resumable_uploads').select('user_id').where('id', '=', id).executeTakeFirst();
      return row?.user_id;
    },
    async countForUser(userId) {
      const row = await db.selectFrom('resumable_uploads').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async idsForUser(userId) {
      const rows = await db.selectFrom('resumable_uploads').select('id').where('user_id', '=', userId).execute();
      return rows.map((r) => r.id);
    },
    async remove(id) {
      await db.deleteFrom('resumable_uploads').where('id', '=', id).execute();
    },
    async removeOlderThan(before) {
      const rows = await db.deleteFrom('resumable_uploads').where('created_at', '<', before).returning('id').execute();
      return rows.map((r) => r.id);
    },
  };
}
