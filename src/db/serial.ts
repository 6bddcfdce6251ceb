import { PostgresAdapter, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

/** An auto-incrementing integer key: `serial` on PostgreSQL, `integer … autoincrement` on SQLite. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations take Kysely<any> (see migrations.ts)
export function serialKey(db: Kysely<any>): ['serial' | 'integer', (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder] {
  return db.getExecutor().adapter instanceof PostgresAdapter
    ? ['serial', (c) => c.primaryKey()]
    : ['integer', (c) => c.primaryKey().autoIncrement()];
}
