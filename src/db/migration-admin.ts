import { sql, type Migration } from 'kysely';
import type { AnyDb } from './migration-db.ts';

/**
 * Administrators: a flag and a disabled mark on each user; a small table of instance-wide
 * state (whether job claiming is paused, and who took the first-account seat) that every web
 * and worker process reads; and the software version on each worker's heartbeat row, which
 * embedded workers now keep too. An instance that already has accounts gets its first-account
 * seat marked taken, so no later sign-up becomes an administrator by arriving first: its
 * operator names one with `reprise user admin <name>` (decision 0022).
 */
export const admin: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('users').addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('users').addColumn('disabled_at', 'bigint').execute();
    await db.schema
      .createTable('instance_state')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await sql`INSERT INTO instance_state (name, value, updated_at)
      SELECT 'first_account', 'existing accounts', ${sql.lit(Date.now())} WHERE EXISTS (SELECT 1 FROM users)`.execute(db);
    await db.schema.alterTable('worker_heartbeats').addColumn('version', 'text', (c) => c.notNull().defaultTo('')).execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('worker_heartbeats').dropColumn('version').execute();
    await db.schema.dropTable('instance_state').execute();
    await db.schema.alterTable('users').dropColumn('disabled_at').execute();
    await db.schema.alterTable('users').dropColumn('is_admin').execute();
  },
};
