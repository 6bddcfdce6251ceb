import type { Kysely, Selectable } from 'kysely';
import type { ApiToken, TokensRepo } from '../../domain/ports.ts';
import type { ApiTokensTable, Database } from '../schema.ts';

// Every column but the hash: it never leaves this file.
const columns = ['id', 'user_id', 'name', 'prefix', 'created_at', 'last_used_at', 'expires_at', 'read_only'] as const;

const toToken = (row: Omit<Selectable<ApiTokensTable>, 'token_hash'>): ApiToken => ({
  id: row.id,
  userId: row.user_id,
  name: row.name,
  prefix: row.prefix,
  createdAt: Number(row.created_at),
  lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  expiresAt: row.expires_at === null ? null : Number(row.expires_at),
  readOnly: Number(row.read_only) === 1,
});

export function tokensRepo(db: Kysely<Database>): TokensRepo {
  return {
    async create(t) {
      await db
        .insertInto('api_tokens')
        .values({
          id: t.id,
          user_id: t.userId,
          token_hash: t.tokenHash,
          name: t.name,
          prefix: t.prefix,
          created_at: t.createdAt,
          last_used_at: null,
          expires_at: t.expiresAt,
          read_only: t.readOnly ? 1 : 0,
        })
        .execute();
    },
    async findUsable(tokenHash, now) {
      // Read from the database on every request, never cached: a revoked (deleted) or expired
      // token is refused on the very next request by every web process.
      const row = await db
        .selectFrom('api_tokens')
        .select(columns)
        .where('token_hash', '=', tokenHash)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .executeTakeFirst();
      if (!row) return undefined;
      // "Last used" to the minute is plenty; writing it on every request made each read a write.
      if (row.last_used_at === null || Number(row.last_used_at) < now - 60_000) {
        await db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', row.id).execute();
      }
      return toToken(row);
    },
    async listForUser(userId) {
      const rows = await db
        .selectFrom('api_tokens')
        .select(columns)
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute();
      return rows.map(toToken);
    },
    async deleteForUser(userId, id) {
      const result = await db.deleteFrom('api_tokens').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
