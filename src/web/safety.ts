import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../errors.ts';
import { ID_PATTERN } from './schemas/common.ts';

const DEFAULT_NEXT = '/files';

/**
 * Only same-site paths: one leading "/", then no "/" or "\" (protocol-relative or Windows-style
 * hosts), no control or whitespace characters anywhere, no lone surrogates, at most 2 KB.
 * Anything else goes to the default page. The result is safe to put in a Location header:
 * characters outside printable ASCII are percent-encoded (existing %xx escapes are kept).
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2048) return DEFAULT_NEXT;
  if (!/^\/(?![/\\])/.test(next)) return DEFAULT_NEXT;
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u0020\u007f-\u00a0\\\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]/.test(next)) return DEFAULT_NEXT;
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(next)) return DEFAULT_NEXT;
  return next.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
}

/** Ids are UUIDs we generated; anything else cannot name an object, so it is a 404 up front. */
const idPattern = new RegExp(ID_PATTERN);

class InvalidHeader extends Error {
  readonly statusCode = 500;
}

/**
 * Guards that keep one request from taking the process down or reaching storage with garbage:
 * - a header value Node would refuse (CR/LF, non-Latin-1) is removed before `writeHead`, which
 *   would otherwise throw outside any handler; the request answers 500 and is logged instead;
 * - a route `:id` that is not one of our ids answers 404 before any query (NUL bytes and such
 *   are errors in PostgreSQL, not "no such row").
 */
export function registerSafetyHooks(server: FastifyInstance): void {
  server.addHook('preValidation', async (request: FastifyRequest) => {
    const params = request.params as Record<string, unknown> | undefined;
    const id = params?.id;
    if (id !== undefined && (typeof id !== 'string' || !idPattern.test(id))) throw notFound();
  });

  server.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload) => {
    const bad: string[] = [];
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value === undefined) continue;
      try {
        validateHeaderName(name);
        for (const v of Array.isArray(value) ? value : [value]) validateHeaderValue(name, String(v));
      } catch {
        bad.push(name);
      }
    }
    if (bad.length === 0) return payload;
    for (const name of bad) reply.removeHeader(name);
    request.log.error({ headers: bad, url: request.url.slice(0, 200) }, 'refused to send an invalid header');
    throw new InvalidHeader(`invalid response header: ${bad.join(', ')}`);
  });
}
