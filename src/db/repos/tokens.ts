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
      const row = await db
        .updateTable('api_tokens')
        .set({ last_used_at: now })
        .where('token_hash', '=', tokenHash)
        .returning('user_id')
        .executeTakeFirst();
      return row?.user_id;
    },
  };
}
