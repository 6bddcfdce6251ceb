import type { Migration } from 'kysely';
import type { AnyDb } from './migration-db.ts';

/**
 * A priority per embedded job (lower runs first), so that one user's long backlog does not hold
 * everybody else's single file behind it: see EnqueueOptions.priority. Existing jobs get 0.
 */
export const jobPriority: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('jobs').addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('jobs').dropColumn('priority').execute();
  },
};
