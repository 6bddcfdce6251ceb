import type { Migration } from 'kysely';
import type { AnyDb } from './migration-db.ts';

/**
 * Presets of one's own, and on each file a snapshot of the own presets it was made with (JSON,
 * nullable: every existing file used built-in presets only), so that deleting or editing a
 * preset never changes what an existing output is called or served as.
 */
export const userPresets: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('user_presets')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('spec', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('user_presets_user').on('user_presets').columns(['user_id', 'created_at']).execute();
    await db.schema.alterTable('files').addColumn('own_presets', 'text').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('files').dropColumn('own_presets').execute();
    await db.schema.dropTable('user_presets').execute();
  },
};
