import type { Kysely, Selectable } from 'kysely';
import type { UserPresetRecord, UserPresetsRepo } from '../../domain/ports.ts';
import type { PresetSpec } from '../../domain/user-presets.ts';
import type { Database, UserPresetsTable } from '../schema.ts';

const toRecord = (row: Selectable<UserPresetsTable>): UserPresetRecord => ({
  ...row,
  spec: JSON.parse(row.spec) as PresetSpec,
  created_at: Number(row.created_at),
  updated_at: Number(row.updated_at),
});

/** Every query is scoped to the owner: another user's preset id finds nothing. */
export function userPresetsRepo(db: Kysely<Database>): UserPresetsRepo {
  return {
    async insert(p) {
      await db.insertInto('user_presets').values({ ...p, spec: JSON.stringify(p.spec) }).execute();
    },
    async listForUser(userId) {
      const rows = await db.selectFrom('user_presets').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
      return rows.map(toRecord);
    },
    async findForUser(userId, id) {
      const row = await db.selectFrom('user_presets').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async countForUser(userId) {
      const row = await db.selectFrom('user_presets').select((eb) => eb.fn.countAll().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async update(userId, id, patch) {
      const result = await db
        .updateTable('user_presets')
        .set({ spec: JSON.stringify(patch.spec), updated_at: patch.updated_at })
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async deleteForUser(userId, id) {
      const result = await db.deleteFrom('user_presets').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
