import type { Kysely, Migration } from 'kysely';

// Kysely<any> is the documented type for migrations: they must not depend on today's schema type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

/**
 * The per-user cap on running jobs (decision 0024) needs two facts: whose job an embedded job is
 * (null: nobody's, never capped; jobs queued before this get null), and how many encode slots
 * each worker pool brings (0 for pools that take no owned jobs, and for rows of older versions).
 */
export const jobOwner: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('jobs').addColumn('user_id', 'text').execute();
    await db.schema.createIndex('jobs_user_state').on('jobs').columns(['user_id', 'state']).execute();
    await db.schema.alterTable('worker_heartbeats').addColumn('slots', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('worker_heartbeats').dropColumn('slots').execute();
    await db.schema.dropIndex('jobs_user_state').execute();
    await db.schema.alterTable('jobs').dropColumn('user_id').execute();
  },
};
