import type { Migration } from 'kysely';
import type { AnyDb } from './migration-db.ts';

/**
 * Mail when a job ends: each user's address and opt-in (a table of its own, so accounts without
 * one need no row), and one row per notification that is to be mailed — the marker that keeps a
 * notification from being mailed twice, and the record of why a mail was given up.
 */
export const mail: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('mail_settings')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('email', 'text')
      .addColumn('on_job_end', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('mail_sends')
      .addColumn('notification_id', 'text', (c) => c.primaryKey().references('notifications.id').onDelete('cascade'))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('to_address', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('sent_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('mail_sends').execute();
    await db.schema.dropTable('mail_settings').execute();
  },
};
