import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { MetricsExporter } from '../metrics/prometheus.ts';

/** Methods a route can have; anything else (only reachable as "no route") is folded into one label. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Compares the bearer token in constant time: both sides are hashed first, so neither the
 * token's content nor its length shows in the time taken.
 */
function hasToken(request: FastifyRequest, expected: Buffer): boolean {
  const header = request.headers.authorization ?? '';
  const given = /^Bearer ([\x21-\x7e]+)$/i.exec(header)?.[1] ?? '';
  return timingSafeEqual(digest(given), expected);
}

/**
 * GET /metrics (Prometheus text format) and the HTTP duration of every request, labelled with its
 * route pattern: requests that matched no route share the label "unmatched", so a scanner trying
 * random URLs cannot grow the series. A wrong or missing token answers 401 (problem+json): the
 * endpoint's existence is no secret, and a clear refusal helps whoever sets up the scraper.
 */
export function registerMetrics(server: FastifyInstance, exporter: MetricsExporter, token: string): void {
  const expected = digest(token);
  server.addHook('onResponse', async (request, reply) => {
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    const method = METHODS.has(request.method) ? request.method : 'OTHER';
    exporter.observeHttp(method, route, reply.statusCode, reply.elapsedTime / 1000);
  });

  server.get('/metrics', { exposeHeadRoute: false }, async (request, reply) => {
    if (!hasToken(request, expected)) {
      reply.header('www-authenticate', 'Bearer realm="metrics"');
      throw new AppError('unauthenticated', 401, 'GET /metrics needs the bearer token set in METRICS_TOKEN.');
    }
    const body = await exporter.render();
    return reply.header('cache-control', 'no-store').type(exporter.contentType).send(body);
  });
}
