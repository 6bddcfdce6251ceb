import type { Migration } from 'kysely';
import type { AnyDb } from './migration-db.ts';

/**
 * Loudness normalization: the option a file was uploaded with and what its job measured, each as
 * JSON (like `presets` and `waveform`). Both nullable: every existing file reads as "off, no
 * report", which is what it was. One column per ALTER TABLE, because SQLite accepts only one.
 */
export const loudness: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('files').addColumn('loudness', 'text').execute();
    await db.schema.alterTable('files').addColumn('loudness_report', 'text').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('files').dropColumn('loudness_report').execute();
    await db.schema.alterTable('files').dropColumn('loudness').execute();
  },
};
