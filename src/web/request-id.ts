import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** What a proxy's id may look like to be kept: short, and nothing a log or header could trip on. */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Ids by Node request, for code that only sees the raw request (tus hooks). */
const idsByRaw = new WeakMap<IncomingMessage, string>();

/**
 * Fastify's genReqId: an incoming X-Request-Id (from a proxy or a client tracing its calls) is
 * kept when it is short and plain, so logs on both sides join up; anything else gets a fresh id.
 */
export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers['x-request-id'];
  const id = typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
  idsByRaw.set(raw, id);
  return id;
}

export const requestIdOfRaw = (raw: IncomingMessage | undefined): string | undefined => (raw ? idsByRaw.get(raw) : undefined);

/**
 * Every answer names its request id. Set on Node's response, so that answers written by hand
 * (event streams, tus) carry it as well as Fastify's own.
 */
export function registerRequestIdHeader(server: FastifyInstance): void {
  server.addHook('onRequest', async (request, reply) => {
    reply.raw.setHeader('x-request-id', request.id);
  });
}
