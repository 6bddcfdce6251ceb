import type { Kysely, Migration } from 'kysely';

// Kysely<any> is the documented type for migrations: they must not depend on today's schema type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

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
