import type { Kysely } from 'kysely';
import type { InstanceStateRepo } from '../../domain/ports.ts';
import type { Database } from '../schema.ts';

/** Named instance-wide values in one small table, read by every process sharing the database. */
export function instanceStateRepo(db: Kysely<Database>): InstanceStateRepo {
  return {
    async get(name) {
      const row = await db.selectFrom('instance_state').select('value').where('name', '=', name).executeTakeFirst();
      return row?.value;
    },
    async put(name, value, now) {
      await db
        .insertInto('instance_state')
        .values({ name, value, updated_at: now })
        .onConflict((oc) => oc.column('name').doUpdateSet({ value, updated_at: now }))
        .execute();
    },
    async insertOnce(name, value, now) {
      // A concurrent insert of the same name waits for the first to commit, then does nothing:
      // of two transactions racing here, exactly one sees a row inserted.
      const result = await db.insertInto('instance_state').values({ name, value, updated_at: now }).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async remove(name) {
      await db.deleteFrom('instance_state').where('name', '=', name).execute();
    },
  };
}
