import type { Migration } from 'kysely';
import type { AnyDb } from './migration-db.ts';

/**
 * Unfinished resumable (tus) uploads, by owner: whose upload an id is (every tus request is
 * checked against it, on any web process), how many one user has open, and which have expired.
 */
export const resumableUploads: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('resumable_uploads')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('size', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('resumable_uploads_user').on('resumable_uploads').column('user_id').execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('resumable_uploads').execute();
  },
};
