import type { Kysely } from 'kysely';
import type { TokensRepo } from '../../domain/ports.ts';
import type { Database } from '../schema.ts';

export function tokensRepo(db: Kysely<Database>): TokensRepo {
  return {
    async create(t) {
      await db
        .insertInto('api_tokens')
        .values({ id: t.id, user_id: t.userId, token_hash: t.tokenHash, created_at: t.createdAt, last_used_at: null })
        .execute();
    },
    async userIdFor(tokenHash, now) {
      const row = await db.selectFrom('api_tokens').select(['id', 'user_id', 'last_used_at']).where('token_hash', '=', tokenHash).executeTakeFirst();
      if (!row) return undefined;
      // "Last used" to the minute is plenty; writing it on every request made each read a write.
      if (row.last_used_at === null || Number(row.last_used_at) < now - 60_000) {
        await db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', row.id).execute();
      }
      return row.user_id;
    },
  };
}
