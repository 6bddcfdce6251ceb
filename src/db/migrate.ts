import { Migrator, type Kysely } from 'kysely';
import { migrationProvider } from './migrations.ts';
import type { Database } from './schema.ts';

/** Brings the schema up to date; returns the names of the migrations it applied. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const message = error instanceof Error ? error.message : String(error);
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(failed ? `migration ${failed} failed: ${message}` : message);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
