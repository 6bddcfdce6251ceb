import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

// int8 (bigint) columns hold epoch milliseconds and byte sizes, all far below 2^53: read them as
// numbers, as SQLite returns them, so that both backends hand the domain the same values.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PostgresHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
}

export function openPostgres(connectionString: string, max = 10): PostgresHandle {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 10_000 });
  // An idle client whose server went away (PostgreSQL restarted) emits 'error'; the pool drops
  // it and the next query opens a fresh connection. Without a listener the process would crash.
  pool.on('error', () => undefined);
  // Likewise for a client that breaks while checked out; its query fails and is reported there.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), pool };
}
