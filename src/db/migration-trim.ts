import type { Migration } from 'kysely';
import type { AnyDb } from './migration-db.ts';

/**
 * Two nullable JSON columns on files. `trim`: the part of the input every output is made from
 * (start and end in seconds); null: all of it, which is what every existing file had.
 * `run_presets`: the presets the current generation produces when it is a later run of some
 * outputs only; null: all of `presets`, which is what every existing job does.
 * One column per ALTER TABLE, because SQLite accepts only one.
 */
export const trim: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('files').addColumn('trim', 'text').execute();
    await db.schema.alterTable('files').addColumn('run_presets', 'text').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('files').dropColumn('run_presets').execute();
    await db.schema.alterTable('files').dropColumn('trim').execute();
  },
};
