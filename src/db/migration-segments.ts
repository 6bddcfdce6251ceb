import type { Migration } from 'kysely';
import type { AnyDb } from './migration-db.ts';

/**
 * Segmented transcodes (issue 12): one `segment_runs` row per file generation split into parts,
 * holding the plan and a count of parts not yet done, and one `segment_parts` row per part with
 * its progress. The count lives on one row so that "was I the last part?" is a single locked
 * UPDATE … RETURNING on both databases (see domain/segmented/finish-part.ts).
 */
export const segments: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('segment_runs')
      .addColumn('file_id', 'text', (c) => c.notNull())
      .addColumn('generation', 'integer', (c) => c.notNull())
      .addColumn('plan', 'text', (c) => c.notNull())
      .addColumn('remaining', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('segment_runs_pk', ['file_id', 'generation'])
      .execute();
    await db.schema
      .createTable('segment_parts')
      .addColumn('file_id', 'text', (c) => c.notNull())
      .addColumn('generation', 'integer', (c) => c.notNull())
      .addColumn('part', 'integer', (c) => c.notNull())
      .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('done', 'integer', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('segment_parts_pk', ['file_id', 'generation', 'part'])
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('segment_parts').execute();
    await db.schema.dropTable('segment_runs').execute();
  },
};
