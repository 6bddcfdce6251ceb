import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import type { Database } from '../../src/db/schema.ts';
import { openSqlite } from '../../src/db/sqlite.ts';
import { backend, freshPostgresDatabase } from './backends.ts';

/** A migrated, empty database of one backend, for the contract suites. */
export interface TestDatabase {
  db: Kysely<Database>;
  /** PostgreSQL only: its pool and URL, for what speaks pg directly (LISTEN/NOTIFY, graphile-worker). */
  pg?: { pool: pg.Pool; url: string };
  close(): Promise<void>;
}

async function sqlite(): Promise<TestDatabase> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-contract-'));
  const db = openSqlite(path.join(dir, 'contract.sqlite'));
  await migrateToLatest(db);
  return {
    db,
    async close() {
      await db.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function postgres(adminUrl: string): Promise<TestDatabase> {
  const url = await freshPostgresDatabase(adminUrl);
  const handle = openPostgres(url);
  await migrateToLatest(handle.db);
  return { db: handle.db, pg: { pool: handle.pool, url }, close: () => handle.db.destroy() };
}

/** SQLite always; PostgreSQL too when the run has one (test/support/with-services.ts). */
export function databaseBackends(): { name: string; open(): Promise<TestDatabase> }[] {
  const adminUrl = backend.pgAdminUrl;
  return [{ name: 'sqlite', open: sqlite }, ...(adminUrl ? [{ name: 'postgresql', open: () => postgres(adminUrl) }] : [])];
}
