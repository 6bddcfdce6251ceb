import type { SessionsRepo } from '../domain/ports.ts';

type Callback = (err?: unknown) => void;

export interface SessionData {
  cookie?: { expires?: string | Date | null };
  userId?: string;
}

/**
 * The callback-shaped store @fastify/session expects, over the sessions repository. A session
 * without a cookie expiry lives `defaultTtlMs`.
 */
export function sessionStore<S extends SessionData>(sessions: SessionsRepo, defaultTtlMs: number) {
  const expiry = (session: S) => {
    const expires = session.cookie?.expires;
    return expires ? new Date(expires).getTime() : Date.now() + defaultTtlMs;
  };
  return {
    set(sid: string, session: S, callback: Callback) {
      sessions.save({ sid, userId: session.userId ?? null, data: JSON.stringify(session), expiresAt: expiry(session) }).then(() => callback(), callback);
    },
    get(sid: string, callback: (err: unknown, result?: S | null) => void) {
      sessions.find(sid, Date.now()).then((data) => callback(undefined, data === undefined ? null : (JSON.parse(data) as S)), callback);
    },
    destroy(sid: string, callback: Callback) {
      sessions.remove(sid).then(() => callback(), callback);
    },
  };
}
