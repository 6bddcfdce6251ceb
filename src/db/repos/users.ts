import type { Kysely } from 'kysely';
import type { UsersRepo } from '../../domain/ports.ts';
import type { Database } from '../schema.ts';

export function usersRepo(db: Kysely<Database>): UsersRepo {
  return {
    async create(user) {
      const result = await db
        .insertInto('users')
        .values(user)
        .onConflict((oc) => oc.column('username').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    findByUsername: (username) =>
      db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst(),
    findById: (id) => db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst(),
  };
}
