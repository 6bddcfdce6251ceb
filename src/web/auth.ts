import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../domain/ports.ts';
import { grantForToken } from '../domain/tokens.ts';
import { AppError, notFound } from '../errors.ts';

/**
 * The account behind a credential, if it may still act: it exists and is not disabled. Read from
 * the database on every request (no cache), so disabling an account stops its sessions and
 * tokens on the next request to any web process.
 */
export async function activeUser(deps: Pick<Deps, 'store'>, userId: string) {
  const user = await deps.store.users.findById(userId);
  return user && user.disabled_at === null ? user : undefined;
}

/** Pages: a signed-in session, or a redirect to the login page that comes back here after. */
export function requirePageUser(deps: Deps) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const userId = request.session.get('userId');
    const user = userId ? await activeUser(deps, userId) : undefined;
    if (!user) {
      const next = encodeURIComponent(request.url);
      return reply.redirect(`/login?next=${next}`, 303);
    }
    request.userId = user.id;
    request.username = user.username;
  };
}

const isRead = (request: FastifyRequest) => request.method === 'GET' || request.method === 'HEAD';

/**
 * API: a bearer token. A browser session also works for reads (GET/HEAD), so pages can use the
 * API for downloads and live data; writes with a cookie alone are refused, which keeps the API
 * outside the reach of cross-site requests without needing CSRF tokens. A read-only token is
 * likewise refused on anything but GET/HEAD. The token is looked up on every request (no cache),
 * so revoking or expiry takes effect at once on every web process.
 */
export function requireApiUser(deps: Deps, opts: { readsOnly?: boolean } = {}) {
  // `readsOnly`: a POST that only reads (a ZIP of chosen files) is open to read-only tokens.
  // It stays closed to a cookie alone: that rule is about cross-site requests, not permissions.
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const grant = match?.[1] ? await grantForToken(deps, match[1]) : undefined;
      const user = grant ? await activeUser(deps, grant.userId) : undefined;
      if (!grant || !user) throw new AppError('invalid_token', 401, 'The bearer token is missing, malformed, expired, revoked or unknown.');
      if (grant.readOnly && !isRead(request) && !opts.readsOnly) {
        throw new AppError('read_only_token', 403, 'This token is read-only: it can only read (GET). Use a token with full access to change anything.');
      }
      request.userId = user.id;
      request.username = user.username;
      return;
    }
    const sessionUser = request.session.get('userId');
    if (sessionUser && isRead(request)) {
      const user = await activeUser(deps, sessionUser);
      if (user) {
        request.userId = user.id;
        request.username = user.username;
        return;
      }
    }
    throw new AppError('unauthenticated', 401, 'Send an API token: Authorization: Bearer <token> (POST /api/v1/tokens issues one).');
  };
}

/**
 * The admin API: an enabled administrator's bearer token (or session, for reads). Anyone else,
 * signed in or not, is told the route does not exist, as for any unknown address: the admin
 * area is not even confirmed to strangers. Runs on onRequest, before the body is parsed, so a
 * malformed body cannot tell a stranger the route is there either.
 */
export function requireApiAdmin(deps: Deps) {
  const authenticate = requireApiUser(deps);
  return async (request: FastifyRequest) => {
    try {
      await authenticate(request);
    } catch {
      throw notFound('page');
    }
    if (!(await activeUser(deps, request.userId))?.is_admin) throw notFound('page');
  };
}

/** Admin pages: a session of an enabled administrator, or the same 404 page as a wrong address. */
export function requirePageAdmin(deps: Deps) {
  return async (request: FastifyRequest) => {
    const userId = request.session.get('userId');
    const user = userId ? await activeUser(deps, userId) : undefined;
    if (!user?.is_admin) throw notFound('page');
    request.userId = user.id;
    request.username = user.username;
  };
}

/**
 * Whether what authenticated this request still would, now: a stream that stays open for hours
 * re-checks it, so a revoked or expired token, a signed-out session or a deleted account stops
 * receiving events too, not only its next request.
 */
export async function stillAuthenticated(deps: Deps, request: FastifyRequest): Promise<boolean> {
  const header = request.headers.authorization;
  if (header) {
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const grant = token ? await grantForToken(deps, token) : undefined;
    return grant?.userId === request.userId && (await activeUser(deps, grant.userId)) !== undefined;
  }
  const data = await deps.store.sessions.find(request.session.sessionId, deps.now());
  const userId = data ? (JSON.parse(data) as { userId?: unknown }).userId : undefined;
  return userId === request.userId && (await activeUser(deps, request.userId)) !== undefined;
}
