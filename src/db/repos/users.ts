import type { Kysely, Selectable } from 'kysely';
import type { UserRecord, UsersRepo } from '../../domain/ports.ts';
import type { Database, UsersTable } from '../schema.ts';

// Field by field: settings kept on the row (retention) have repositories of their own.
const toUser = (row: Selectable<UsersTable>): UserRecord => ({
  id: row.id,
  username: row.username,
  password_hash: row.password_hash,
  created_at: Number(row.created_at),
  is_admin: Number(row.is_admin) === 1,
  disabled_at: row.disabled_at === null ? null : Number(row.disabled_at),
});

export function usersRepo(db: Kysely<Database>): UsersRepo {
  return {
    async create(user) {
      const result = await db
        .insertInto('users')
        .values({ ...user, is_admin: user.is_admin ? 1 : 0 })
        .onConflict((oc) => oc.column('username').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    findByUsername: async (username) => {
      const row = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
      return row && toUser(row);
    },
    findById: async (id) => {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toUser(row);
    },
    async listWithUsage() {
      // Two grouped sums joined to the users: bytes of sources, and bytes of outputs that exist.
      const sources = db.selectFrom('files').select((eb) => ['user_id', eb.fn.sum<string | number>('input_size').as('bytes'), eb.fn.countAll<string | number>().as('n')]).groupBy('user_id');
      const outputs = db
        .selectFrom('outputs')
        .innerJoin('files', 'files.id', 'outputs.file_id')
        .select((eb) => ['files.user_id', eb.fn.sum<string | number>('outputs.size').as('bytes')])
        .groupBy('files.user_id');
      const rows = await db
        .selectFrom('users')
        .leftJoin(sources.as('s'), 's.user_id', 'users.id')
        .leftJoin(outputs.as('o'), 'o.user_id', 'users.id')
        .selectAll('users')
        .select(['s.bytes as source_bytes', 's.n as file_count', 'o.bytes as output_bytes'])
        .orderBy('users.created_at')
        .orderBy('users.id')
        .execute();
      return rows.map(({ source_bytes, file_count, output_bytes, ...user }) => ({
        user: toUser(user),
        files: Number(file_count ?? 0),
        sourceBytes: Number(source_bytes ?? 0),
        outputBytes: Number(output_bytes ?? 0),
      }));
    },
    async setAdmin(id, isAdmin) {
      const result = await db.updateTable('users').set({ is_admin: isAdmin ? 1 : 0 }).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async setDisabled(id, at) {
      const result = await db.updateTable('users').set({ disabled_at: at }).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async countEnabledAdmins() {
      const row = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('is_admin', '=', 1)
        .where('disabled_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async remove(id) {
      // Everything the user owns references the row with ON DELETE CASCADE (see migrations.ts).
      const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
