import type { Kysely } from 'kysely';
import type { FilesRepo } from '../../domain/ports.ts';
import type { Database } from '../schema.ts';

export function filesRepo(db: Kysely<Database>): FilesRepo {
  return {
    async insert(file) {
      await db.insertInto('files').values(file).execute();
    },
    listForUser: (userId) =>
      db.selectFrom('files').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').execute(),
    findForUser: (userId, id) =>
      db.selectFrom('files').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst(),
    findById: (id) => db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst(),
    async update(id, patch, guard = {}) {
      let query = db.updateTable('files').set(patch).where('id', '=', id);
      if (guard.generation !== undefined) query = query.where('generation', '=', guard.generation);
      if (guard.statusIn) query = query.where('status', 'in', guard.statusIn);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async deleteForUser(userId, id) {
      const result = await db.deleteFrom('files').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
