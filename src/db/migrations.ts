import type { Migration, MigrationProvider } from 'kysely';
import { managedTokens } from './migration-managed-tokens.ts';
import { typedJobs } from './migration-typed-jobs.ts';
import { webhooks } from './migration-webhooks.ts';
import { resumableUploads } from './migration-uploads.ts';
import { jobPriority } from './migration-job-priority.ts';
import { jobOwner } from './migration-job-owner.ts';
import { loudness } from './migration-loudness.ts';
import { userPresets } from './migration-user-presets.ts';
import { mail } from './migration-mail.ts';
import { admin } from './migration-admin.ts';
import { retention } from './migration-retention.ts';
import { quotas } from './migration-quotas.ts';
import { trim } from './migration-trim.ts';
import { inputDetails } from './migration-input-details.ts';
import { segments } from './migration-segments.ts';
import { serialKey } from './serial.ts';
import type { AnyDb } from './migration-db.ts';

/**
 * Migrations live in code (not files found at run time) so that they work the same under tsx,
 * after bundling, and on both SQLite and PostgreSQL: only Kysely's portable schema builder is used.
 */
const initial: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('username', 'text', (c) => c.notNull().unique())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('sessions')
      .addColumn('sid', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();

    await db.schema
      .createTable('api_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint')
      .execute();

    await db.schema
      .createTable('files')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('original_filename', 'text', (c) => c.notNull())
      .addColumn('input_key', 'text', (c) => c.notNull())
      .addColumn('input_size', 'bigint', (c) => c.notNull())
      .addColumn('input_format', 'text', (c) => c.notNull())
      .addColumn('input_codec', 'text', (c) => c.notNull())
      .addColumn('duration_ms', 'bigint', (c) => c.notNull())
      .addColumn('has_cover', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('input_sample_rate', 'integer', (c) => c.notNull())
      .addColumn('input_channels', 'integer', (c) => c.notNull())
      .addColumn('presets', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('progress', 'real', (c) => c.notNull().defaultTo(0))
      .addColumn('error', 'text')
      .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('files_user_created').on('files').columns(['user_id', 'created_at']).execute();

    await db.schema
      .createTable('outputs')
      .addColumn('file_id', 'text', (c) => c.notNull().references('files.id').onDelete('cascade'))
      .addColumn('preset_id', 'text', (c) => c.notNull())
      .addColumn('blob_key', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('duration_ms', 'bigint', (c) => c.notNull())
      .addColumn('bit_rate', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('outputs_pk', ['file_id', 'preset_id'])
      .execute();

    await db.schema
      .createTable('jobs')
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
    await db.schema.createIndex('jobs_state_run_at').on('jobs').columns(['state', 'run_at']).execute();

    await db.schema
      .createTable('notifications')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('file_id', 'text', (c) => c.references('files.id').onDelete('cascade'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('dismissed_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('notifications_user_created')
      .on('notifications')
      .columns(['user_id', 'created_at'])
      .execute();
  },
  async down(db: AnyDb) {
    for (const table of ['notifications', 'jobs', 'outputs', 'files', 'api_tokens', 'sessions', 'users']) {
      await db.schema.dropTable(table).execute();
    }
  },
};

/** Live events, kept for a day so that a reconnecting stream can replay what it missed. */
const events: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('events')
      .addColumn('id', ...serialKey(db))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('events_user_id').on('events').columns(['user_id', 'id']).execute();
    await db.schema.createIndex('events_created_at').on('events').column('created_at').execute();
    await db.schema.alterTable('files').addColumn('waveform', 'text').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('files').dropColumn('waveform').execute();
    await db.schema.dropTable('events').execute();
  },
};

/** Heartbeats of graphile-worker pools (scale-out mode); unused, and harmless, on SQLite. */
const workerHeartbeats: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('worker_heartbeats')
      .addColumn('pool_id', 'text', (c) => c.primaryKey())
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('pid', 'integer', (c) => c.notNull())
      .addColumn('last_seen', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('worker_heartbeats').execute();
  },
};

export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_events_waveform': events,
  '0003_worker_heartbeats': workerHeartbeats,
  '0004_typed_jobs': typedJobs,
  '0005_managed_tokens': managedTokens,
  '0006_webhooks': webhooks,
  '0007_resumable_uploads': resumableUploads,
  '0008_loudness': loudness,
  '0009_job_priority': jobPriority,
  '0010_user_presets': userPresets,
  '0011_mail': mail,
  '0012_admin': admin,
  '0013_retention': retention,
  '0014_quotas': quotas,
  '0015_trim': trim,
  '0016_segments': segments,
  '0017_job_owner': jobOwner,
  '0018_input_details': inputDetails,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
