import type { Migration } from 'kysely';
import type { AnyDb } from './migration-db.ts';

/**
 * Retention: each user's own choice of days to keep files (null: the instance's RETENTION_DAYS),
 * and when a file's owner was told it will be deleted, so that no file goes without a day's notice.
 * The sweep looks files up by age across all users, hence the index on created_at.
 */
export const retention: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('users').addColumn('retention_days', 'integer').execute();
    await db.schema.alterTable('files').addColumn('expiry_warned_at', 'bigint').execute();
    await db.schema.createIndex('files_created_at').on('files').column('created_at').execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('files_created_at').execute();
    await db.schema.alterTable('files').dropColumn('expiry_warned_at').execute();
    await db.schema.alterTable('users').dropColumn('retention_days').execute();
  },
};
