import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

type Callback = (err?: unknown) => void;

export interface SessionData {
  cookie?: { expires?: string | Date | null };
  userId?: string;
}

/**
 * Server-side sessions in the application database, in the callback shape @fastify/session
 * expects. Sessions survive a restart and can be revoked by deleting rows.
 */
export function sessionStore<S extends SessionData>(db: Kysely<Database>, defaultTtlMs: number) {
  const expiry = (session: S) => {
    const expires = session.cookie?.expires;
    return expires ? new Date(expires).getTime() : Date.now() + defaultTtlMs;
  };
  return {
    set(sid: string, session: S, callback: Callback) {
      const row = { sid, user_id: session.userId ?? null, data: JSON.stringify(session), expires_at: expiry(session) };
      db.insertInto('sessions')
        .values(row)
        .onConflict((oc) => oc.column('sid').doUpdateSet({ user_id: row.user_id, data: row.data, expires_at: row.expires_at }))
        .execute()
        .then(() => callback(), callback);
    },
    get(sid: string, callback: (err: unknown, result?: S | null) => void) {
      db.selectFrom('sessions')
        .selectAll()
        .where('sid', '=', sid)
        .executeTakeFirst()
        .then((row) => {
          if (!row || Number(row.expires_at) <= Date.now()) return callback(undefined, null);
          callback(undefined, JSON.parse(row.data) as S);
        }, callback);
    },
    destroy(sid: string, callback: Callback) {
      db.deleteFrom('sessions').where('sid', '=', sid).execute().then(() => callback(), callback);
    },
  };
}

export async function deleteExpiredSessions(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
