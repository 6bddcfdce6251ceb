import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { MetricsExporter } from '../metrics/prometheus.ts';
import { sendProblem } from './errors.ts';
import { registerMetrics } from './metrics.ts';
import { registerRequestIdHeader, requestIdOf } from './request-id.ts';

/**
 * What a worker process (no pages, no API) serves when METRICS_TOKEN is set: /metrics and
 * /healthz on PORT, so the jobs it ran can be scraped like a web process's.
 */
export async function createMetricsServer(exporter: MetricsExporter, config: Config, log: Logger): Promise<FastifyInstance> {
  const server = Fastify({ loggerInstance: log as FastifyBaseLogger, genReqId: requestIdOf });
  registerRequestIdHeader(server);
  server.setErrorHandler(async (err, request, reply) => {
    if (err instanceof AppError) return sendProblem(request, reply, err);
    request.log.error({ err }, 'request failed');
    return sendProblem(request, reply, new AppError('internal', 500, 'Something went wrong on our side. It has been logged.'));
  });
  server.setNotFoundHandler(() => {
    throw new AppError('not_found', 404, 'A worker process serves only /metrics and /healthz.');
  });
  server.get('/healthz', () => ({ status: 'ok' }));
  if (config.metricsToken) registerMetrics(server, exporter, config.metricsToken);
  return server;
}
