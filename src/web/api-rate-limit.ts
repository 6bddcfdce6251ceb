import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';

/**
 * What one caller of the API is, for counting: the token itself (by its hash: the secret stays
 * out of memory we keep), or the account behind a browser session. Two tokens of one account are
 * two callers, so a runaway script does not lock its owner out of the pages or another client.
 */
function callerOf(request: FastifyRequest): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (bearer && request.userId) return `api-token:${createHash('sha256').update(bearer).digest('base64url')}`;
  return request.userId ? `api-user:${request.userId}` : undefined;
}

/**
 * A preHandler for the /api/v1 scope: it runs after each route has authenticated its caller, so
 * only known callers are counted (anonymous requests have the sign-in and sign-up limits).
 * Past API_RATE_LIMIT requests in a minute: 429 with Retry-After, until the minute turns.
 */
export function apiRateLimit(server: FastifyInstance, config: Pick<Config, 'apiRateLimit'>) {
  if (config.apiRateLimit === 0) return async () => {};
  const limiter = server.createRateLimit({ max: config.apiRateLimit, timeWindow: 60_000, keyGenerator: (r) => callerOf(r) ?? 'anonymous' });
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method === 'OPTIONS' || !callerOf(request)) return;
    const result = await limiter(request);
    if (result.isAllowed || !result.isExceeded) return;
    const seconds = Math.max(1, result.ttlInSeconds);
    reply.header('Retry-After', String(seconds));
    throw new AppError('rate_limited', 429, `Too many API requests with these credentials: at most ${config.apiRateLimit} a minute. Try again in ${seconds} s.`, {
      retryAfterSeconds: seconds,
      limit: config.apiRateLimit,
    });
  };
}
