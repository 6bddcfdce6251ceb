import { sql, type Migration } from 'kysely';
import { serialKey } from './serial.ts';
import type { AnyDb } from './migration-db.ts';

/**
 * The embedded queue carries any job type: a name and a JSON payload instead of a file id and a
 * generation, plus an optional key (a queued job with the same key is replaced, not doubled).
 * SQLite cannot relax NOT NULL in place, so the table is rebuilt; queued and running jobs are
 * carried over as `transcode` jobs with the payload they always meant.
 */
export const typedJobs: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('jobs_typed')
      .addColumn('id', ...serialKey(db))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('key', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('locked_by', 'text')
      .addColumn('heartbeat_at', 'bigint')
      .addColumn('run_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    // `||` concatenates text and integers alike on SQLite and PostgreSQL.
    await sql`
      INSERT INTO jobs_typed (name, payload, key, state, attempts, locked_by, heartbeat_at, run_at, created_at)
      SELECT 'transcode',
             '{"fileId":"' || file_id || '","generation":' || generation || '}',
             'transcode:' || file_id || ':g' || generation,
             state, attempts, locked_by, heartbeat_at, run_at, created_at
      FROM jobs ORDER BY id`.execute(db);
    await db.schema.dropTable('jobs').execute();
    await db.schema.alterTable('jobs_typed').renameTo('jobs').execute();
    await db.schema.createIndex('jobs_state_run_at').on('jobs').columns(['state', 'run_at']).execute();
    await db.schema.createIndex('jobs_key').on('jobs').column('key').execute();
  },
  async down(db: AnyDb) {
    await db.schema
      .createTable('jobs_old')
      .addColumn('id', ...serialKey(db))
      .addColumn('file_id', 'text', (c) => c.notNull().references('files.id').onDelete('cascade'))
      .addColumn('generation', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('locked_by', 'text')
      .addColumn('heartbeat_at', 'bigint')
      .addColumn('run_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.dropTable('jobs').execute();
    await db.schema.alterTable('jobs_old').renameTo('jobs').execute();
    await db.schema.createIndex('jobs_state_run_at').on('jobs').columns(['state', 'run_at']).execute();
  },
};
