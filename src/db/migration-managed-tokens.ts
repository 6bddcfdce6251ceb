import type { Migration } from 'kysely';
import type { AnyDb } from './migration-db.ts';

/**
 * Tokens people manage: a name, a recognisable prefix, an optional expiry and a read-only flag.
 * Existing tokens keep working unchanged: they become 'API token', full access, never expiring,
 * with no prefix (only their hash was ever stored). One column per ALTER TABLE, because SQLite
 * accepts only one; booleans are integers 0/1 as elsewhere (`has_cover`).
 */
export const managedTokens: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('api_tokens').addColumn('name', 'text', (c) => c.notNull().defaultTo('API token')).execute();
    await db.schema.alterTable('api_tokens').addColumn('prefix', 'text', (c) => c.notNull().defaultTo('')).execute();
    await db.schema.alterTable('api_tokens').addColumn('expires_at', 'bigint').execute();
    await db.schema.alterTable('api_tokens').addColumn('read_only', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    // The settings page and GET /tokens list one user's tokens, newest first.
    await db.schema.createIndex('api_tokens_user_created').on('api_tokens').columns(['user_id', 'created_at']).execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('api_tokens_user_created').execute();
    for (const column of ['read_only', 'expires_at', 'prefix', 'name']) {
      await db.schema.alterTable('api_tokens').dropColumn(column).execute();
    }
  },
};
