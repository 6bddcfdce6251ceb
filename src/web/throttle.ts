import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { normalizeUsername } from '../domain/accounts.ts';
import { AppError } from '../errors.ts';

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

export interface Throttles {
  /** Before checking a password (form and token route share it): per address and per account. */
  beforeLogin(request: FastifyRequest, reply: FastifyReply, username: unknown): Promise<void>;
  /** After a wrong password: counts against the account, whatever address it came from. */
  loginFailed(request: FastifyRequest, username: unknown): Promise<void>;
  /** Before creating an account: per address. */
  beforeSignup(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

const tooMany = (reply: FastifyReply, seconds: number, what: string) => {
  reply.header('Retry-After', String(Math.max(1, seconds)));
  return new AppError('rate_limited', 429, `${what} Try again in ${Math.max(1, seconds)} s.`, { retryAfterSeconds: Math.max(1, seconds) });
};

async function exceeded(limiter: Limiter, request: FastifyRequest, increment: boolean): Promise<number | undefined> {
  const result = await limiter(request, { increment });
  if (result.isAllowed) return undefined;
  // Reading without incrementing reports "exceeded" only past max; at max the next try is over.
  const over = increment ? result.isExceeded : result.remaining <= 0;
  return over ? result.ttlInSeconds : undefined;
}

/**
 * One login limit for the sign-in form and POST /api/v1/tokens: attempts per client address
 * (LOGIN_RATE_LIMIT a minute), and failed attempts per account from anywhere (5× that an hour),
 * so rotating addresses does not buy more guesses at one password. Sign-up is limited per
 * address (SIGNUP_RATE_LIMIT an hour). Counters live in this process (see decision 0005).
 */
export function createThrottles(server: FastifyInstance, config: Config): Throttles {
  const perAddress = server.createRateLimit({ max: config.loginRateLimit, timeWindow: 60_000, keyGenerator: (r) => `login-ip:${r.ip}` });
  const perAccount = server.createRateLimit({
    max: config.loginRateLimit * 5,
    timeWindow: 3600_000,
    keyGenerator: (r) => `login-user:${(r as FastifyRequest & { throttleUser?: string }).throttleUser ?? ''}`,
  });
  const signups = server.createRateLimit({ max: config.signupRateLimit, timeWindow: 3600_000, keyGenerator: (r) => `signup-ip:${r.ip}` });
  const forAccount = (request: FastifyRequest, username: unknown) => {
    (request as FastifyRequest & { throttleUser?: string }).throttleUser = normalizeUsername(username).slice(0, 64);
    return request;
  };

  return {
    async beforeLogin(request, reply, username) {
      const wait = await exceeded(perAddress, request, true);
      if (wait !== undefined) throw tooMany(reply, wait, 'Too many sign-in attempts from your address.');
      const accountWait = await exceeded(perAccount, forAccount(request, username), false);
      if (accountWait !== undefined) throw tooMany(reply, accountWait, 'Too many failed sign-in attempts for this account.');
    },
    async loginFailed(request, username) {
      await perAccount(forAccount(request, username), { increment: true });
    },
    async beforeSignup(request, reply) {
      const wait = await exceeded(signups, request, true);
      if (wait !== undefined) throw tooMany(reply, wait, 'Too many accounts created from your address.');
    },
  };
}
