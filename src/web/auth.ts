import type { FastifyReply, FastifyRequest } from 'fastify';
import { userIdForToken } from '../domain/accounts.ts';
import type { Deps } from '../domain/ports.ts';
import { AppError } from '../errors.ts';

/** Pages: a signed-in session, or a redirect to the login page that comes back here after. */
export function requirePageUser(deps: Deps) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const userId = request.session.get('userId');
    const user = userId ? await deps.store.users.findById(userId) : undefined;
    if (!user) {
      const next = encodeURIComponent(request.url);
      return reply.redirect(`/login?next=${next}`, 303);
    }
    request.userId = user.id;
    request.username = user.username;
  };
}

/**
 * API: a bearer token. A browser session also works for reads (GET/HEAD), so pages can use the
 * API for downloads and live data; writes with a cookie alone are refused, which keeps the API
 * outside the reach of cross-site requests without needing CSRF tokens.
 */
export function requireApiUser(deps: Deps) {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const userId = match?.[1] ? await userIdForToken(deps, match[1]) : undefined;
      const user = userId ? await deps.store.users.findById(userId) : undefined;
      if (!user) throw new AppError('invalid_token', 401, 'The bearer token is missing, malformed, revoked or unknown.');
      request.userId = user.id;
      request.username = user.username;
      return;
    }
    const sessionUser = request.session.get('userId');
    if (sessionUser && (request.method === 'GET' || request.method === 'HEAD')) {
      const user = await deps.store.users.findById(sessionUser);
      if (user) {
        request.userId = user.id;
        request.username = user.username;
        return;
      }
    }
    throw new AppError('unauthenticated', 401, 'Send an API token: Authorization: Bearer <token> (POST /api/v1/tokens issues one).');
  };
}
