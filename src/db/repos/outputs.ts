import type { Kysely } from 'kysely';
import type { OutputsRepo } from '../../domain/ports.ts';
import type { Database } from '../schema.ts';

export function outputsRepo(db: Kysely<Database>): OutputsRepo {
  return {
    listForFile: (fileId) =>
      db.selectFrom('outputs').selectAll().where('file_id', '=', fileId).orderBy('created_at').execute(),
    listForFiles: (fileIds) =>
      fileIds.length === 0
        ? Promise.resolve([])
        : db.selectFrom('outputs').selectAll().where('file_id', 'in', fileIds).execute(),
    find: (fileId, presetId) =>
      db
        .selectFrom('outputs')
        .selectAll()
        .where('file_id', '=', fileId)
        .where('preset_id', '=', presetId)
        .executeTakeFirst(),
    async upsert(o) {
      await db
        .insertInto('outputs')
        .values(o)
        .onConflict((oc) =>
          oc.columns(['file_id', 'preset_id']).doUpdateSet({
            blob_key: o.blob_key,
            size: o.size,
            duration_ms: o.duration_ms,
            bit_rate: o.bit_rate,
            created_at: o.created_at,
          }),
        )
        .execute();
    },
    async deleteForFile(fileId) {
      await db.deleteFrom('outputs').where('file_id', '=', fileId).execute();
    },
  };
}
