import type { Migration } from 'kysely';
import type { AnyDb } from './migration-db.ts';

/**
 * Quotas: per-user overrides of the settings' defaults (a null column means "the default"), and
 * upload reservations. A reservation is taken before an upload's first byte is stored and holds
 * its declared size against the storage quota until the file row exists (then it is marked
 * settled and only counts towards the day's uploads) or the upload is refused (then it goes).
 */
export const quotas: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('user_quotas')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('quota_bytes', 'bigint')
      .addColumn('queued_jobs', 'integer')
      .addColumn('files_per_day', 'integer')
      .addColumn('max_upload_bytes', 'bigint')
      .addColumn('max_input_seconds', 'bigint')
      .addColumn('max_output_bytes', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('upload_reservations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .addColumn('settled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('upload_reservations_user').on('upload_reservations').columns(['user_id', 'created_at']).execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('upload_reservations').execute();
    await db.schema.dropTable('user_quotas').execute();
  },
};
