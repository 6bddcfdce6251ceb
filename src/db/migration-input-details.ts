import type { Migration } from 'kysely';
import type { AnyDb } from './migration-db.ts';

/**
 * A nullable JSON column on files: what the upload's probe saw beyond the other input columns
 * (bit depth, cover picture), so that neither a one-pass job nor a segmented one probes the input
 * again (issue 12's fixed cost: with remote storage that meant fetching it first). Null for files
 * probed before this column existed: their jobs probe as before.
 */
export const inputDetails: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('files').addColumn('input_details', 'text').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('files').dropColumn('input_details').execute();
  },
};
