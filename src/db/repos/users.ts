import type { Kysely } from 'kysely';
import type { UsersRepo } from '../../domain/ports.ts';
import type { Database } from '../schema.ts';

/** A UserRecord's columns: settings kept on the row (retention) have repositories of their own. */
const userColumns = ['id', 'username', 'password_hash', 'created_at'] as const;

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
      db.selectFrom('users').select(userColumns).where('username', '=', username).executeTakeFirst(),
    findById: (id) => db.selectFrom('users').select(userColumns).where('id', '=', id).executeTakeFirst(),
  };
}
