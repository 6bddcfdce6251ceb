import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Migrator, sql } from 'kysely';
import { loadConfig } from '../src/config.ts';
import { migrationProvider } from '../src/db/migrations.ts';
import { openSqlite } from '../src/db/sqlite.ts';
import { buildApp, StartupError } from '../src/deps.ts';
import { decodeJob, InvalidJob } from '../src/jobs/definitions.ts';
import { unhandledNames } from '../src/jobs/handlers.ts';
import { jobHandlers } from '../src/jobs/registry.ts';
import { createLogger } from '../src/log.ts';
import { freshBackendEnv } from './helpers/backends.ts';

describe('typed jobs', () => {
  it('decodes known jobs and refuses unknown names and bad payloads', () => {
    assert.deepEqual(decodeJob('transcode', { fileId: 'f', generation: 2 }), { name: 'transcode', payload: { fileId: 'f', generation: 2 } });
    assert.throws(() => decodeJob('nope', {}), (e: unknown) => e instanceof InvalidJob && /no such job type/.test(e.message));
    assert.throws(() => decodeJob('transcode', { fileId: 'f' }), (e: unknown) => e instanceof InvalidJob && /generation/.test(e.message));
    assert.throws(() => decodeJob('transcode', { fileId: 'f', generation: 0 }), InvalidJob);
    assert.throws(() => decodeJob('__proto__', {}), InvalidJob);
  });

  it('flags queued names without a handler', () => {
    // The deps are never touched by building the map.
    const handlers = jobHandlers({} as Parameters<typeof jobHandlers>[0]);
    assert.deepEqual(unhandledNames(['transcode', 'webhook.v9', 'toString'], handlers), ['webhook.v9', 'toString']);
  });

  it('stops start-up with one line when the queue holds a job name this version has no handler for', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'reprise-typed-'));
    const config = loadConfig({ LOG_LEVEL: 'silent', ...(await freshBackendEnv()), DATA_DIR: dataDir });
    const app = await buildApp(config, createLogger('silent'));
    try {
      if (config.databaseUrl) await sql`SELECT graphile_worker.add_job('from.the.future', '{}'::json)`.execute(app.db);
      else await app.db.insertInto('jobs').values({ name: 'from.the.future', payload: '{}', key: null, state: 'queued', attempts: 0, locked_by: null, heartbeat_at: null, run_at: 0, created_at: 0 }).execute();
      await assert.rejects(app.startWorkers(1), (e: unknown) => e instanceof StartupError && /from\.the\.future/.test(e.message) && !e.message.includes('\n'));
    } finally {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('keeps jobs queued before the upgrade, as transcode jobs (SQLite)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-migrate-'));
    const db = openSqlite(path.join(dir, 'old.sqlite'));
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      const to3 = await migrator.migrateTo('0003_worker_heartbeats');
      assert.equal(to3.error, undefined);
      await sql`INSERT INTO users (id, username, password_hash, created_at) VALUES ('u1', 'old', 'x', 0)`.execute(db);
      await sql`INSERT INTO files (id, user_id, name, original_filename, input_key, input_size, input_format, input_codec, duration_ms, has_cover, input_sample_rate, input_channels, presets, status, progress, error, generation, created_at, updated_at)
                VALUES ('f1', 'u1', 'n', 'n.wav', 'k', 1, 'wav', 'pcm_s16le', 1000, 0, 44100, 2, '[]', 'queued', 0, NULL, 3, 0, 0)`.execute(db);
      await sql`INSERT INTO jobs (file_id, generation, state, attempts, locked_by, heartbeat_at, run_at, created_at) VALUES ('f1', 3, 'queued', 1, NULL, NULL, 123, 100)`.execute(db);
      const latest = await migrator.migrateToLatest();
      assert.equal(latest.error, undefined);
      const rows = await db.selectFrom('jobs').selectAll().execute();
      assert.equal(rows.length, 1);
      const row = rows[0];
      assert.ok(row);
      assert.equal(row.name, 'transcode');
      assert.deepEqual(JSON.parse(row.payload), { fileId: 'f1', generation: 3 });
      assert.equal(row.key, 'transcode:f1:g3');
      assert.deepEqual([row.state, row.attempts, row.run_at, row.created_at], ['queued', 1, 123, 100]);
      assert.deepEqual(decodeJob(row.name, JSON.parse(row.payload)), { name: 'transcode', payload: { fileId: 'f1', generation: 3 } });
    } finally {
      await db.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
