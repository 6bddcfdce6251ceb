import type { Kysely } from 'kysely';

/**
 * The database as every migration sees it. Kysely<any> is the documented type for migrations: a
 * migration must keep working as it was written, whatever today's schema type says.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDb = Kysely<any>;
