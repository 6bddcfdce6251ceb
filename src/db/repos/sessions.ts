import type { Kysely } from 'kysely';
import type { SessionsRepo } from '../../domain/ports.ts';
import type { Database } from '../schema.ts';

/** Server-side sessions: they survive a restart and can be revoked by deleting rows. */
export function sessionsRepo(db: Kysely<Database>): SessionsRepo {
  return {
    async save(s) {
      const row = { sid: s.sid, user_id: s.userId, data: s.data, expires_at: s.expiresAt };
      await db
        .insertInto('sessions')
        .values(row)
        .onConflict((oc) => oc.column('sid').doUpdateSet({ user_id: row.user_id, data: row.data, expires_at: row.expires_at }))
        .execute();
    },
    async find(sid, now) {
      const row = await db.selectFrom('sessions').select(['data', 'expires_at']).where('sid', '=', sid).executeTakeFirst();
      return row && Number(row.expires_at) > now ? row.data : undefined;
    },
    async remove(sid) {
      await db.deleteFrom('sessions').where('sid', '=', sid).execute();
    },
    async removeExpired(now) {
      const result = await db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async removeForUser(userId) {
      const result = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
