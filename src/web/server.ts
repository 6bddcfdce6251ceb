import http from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyMultipart from '@fastify/multipart';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySession from '@fastify/session';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, type Session } from 'fastify';
import type { WebContext } from './context.ts';
import { sessionStore } from './session-store.ts';
import { apiRoutes } from './routes/api.ts';
import { eventRoutes } from './routes/events.ts';
import { authPages } from './routes/pages-auth.ts';
import { filePages } from './routes/pages-files.ts';
import { notificationPages } from './routes/pages-notifications.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { presetRoutes } from './routes/presets.ts';
import { mailSettingsRoutes } from './routes/mail-settings.ts';
import { retentionRoutes } from './routes/retention.ts';
import { zipApiRoutes, zipPages } from './routes/zip.ts';
import { resumableUploadRoutes } from './resumable.ts';
import { settingsPages } from './routes/pages-settings.ts';
import { presetPages } from './routes/pages-presets.ts';
import { adminApiRoutes } from './routes/admin-api.ts';
import { adminPages } from './routes/pages-admin.ts';
import { usageRoutes } from './routes/usage.ts';
import { notFound } from '../errors.ts';
import { errorHandler } from './errors.ts';
import { registerOpenApi } from './openapi.ts';
import { problemCodeKeyword } from './validation.ts';
import { JSON_BODY_LIMIT } from './limits.ts';
import { registerSafetyHooks } from './safety.ts';
import { registerMetrics } from './metrics.ts';
import { registerRequestIdHeader, requestIdOf } from './request-id.ts';
import { registerSlowBodyGuard } from './slow-body.ts';
import { createThrottles } from './throttle.ts';
import { apiRateLimit } from './api-rate-limit.ts';
import './types.ts';

const staticDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');
const tusClientDir = path.join(path.dirname(createRequire(import.meta.url).resolve('tus-js-client/package.json')), 'dist');

function csrfTokenOf(request: FastifyRequest): string | undefined {
  const body = request.body as { _csrf?: unknown } | undefined;
  const query = request.query as { _csrf?: unknown } | undefined;
  const header = request.headers['x-csrf-token'] ?? request.headers['csrf-token'];
  // Multipart bodies are read inside the handler, after this check: their token rides in the
  // query string (no-JS form) or a header (the upload script).
  const token = body?._csrf ?? header ?? query?._csrf;
  return typeof token === 'string' ? token : undefined;
}

/**
 * Every hook and plugin here expects a path ("origin form"). HTTP/1.1 also allows the absolute
 * form ("GET http://host/path") and "*": the first is read as its path, the second cannot name
 * anything of ours and goes where nothing is found. (Left as they were, @fastify/session skipped
 * such requests and the pages failed with a 500.)
 */
function originFormOnly(req: { url?: string }): string {
  const url = req.url ?? '/';
  if (url.startsWith('/')) return url;
  const absolute = /^https?:\/\/[^/?#]*(.*)$/i.exec(url);
  if (absolute) return absolute[1]?.startsWith('/') ? absolute[1] : `/${absolute[1] ?? ''}`;
  return '/.well-known/not-a-path';
}

const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

export async function createServer(app: WebContext, sessionSecret: string): Promise<FastifyInstance> {
  const { deps } = app;
  const { config } = deps;
  const server = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // A hop count trusts that many proxies nearest to us (what Fastify does for a number).
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    bodyLimit: JSON_BODY_LIMIT,
    rewriteUrl: originFormOnly,
    genReqId: requestIdOf,
    // Header sections must arrive promptly; bodies are watched by the slow-body guard instead,
    // because a 2 GiB upload may rightly take an hour while a trickle must not. Node checks
    // these timeouts every connectionsCheckingInterval (30 s by default, which would let a
    // slow-header client hold a socket for up to twice the limit), so check more often.
    serverFactory: (handler) => {
      const s = http.createServer(
        { headersTimeout: config.headersTimeoutMs, requestTimeout: 0, connectionsCheckingInterval: Math.min(30_000, Math.max(500, config.headersTimeoutMs / 4)) },
        handler,
      );
      // A socket silent this long is closed (event streams send a heartbeat every 20 s).
      s.setTimeout(120_000);
      // Fastify sets this only on servers it makes itself. Node's 5 s is barely above what
      // clients assume (fetch: 4 s), so a request sent as the server closes an idle connection
      // was reset instead of answered; 72 s is Fastify's own default.
      s.keepAliveTimeout = 72_000;
      return s;
    },
    ajv: {
      // Bodies are checked as sent: "30" is not the number 30 (query strings and ids are strings).
      customOptions: { coerceTypes: false },
      plugins: [problemCodeKeyword],
    },
  });
  // Node hands CONNECT to a 'connect' listener and, with none, drops the socket unanswered.
  // We are not a proxy: say so.
  server.server.on('connect', (_req, socket: Duplex) => {
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST, PATCH, DELETE, OPTIONS\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  registerRequestIdHeader(server);
  registerSafetyHooks(server);
  registerSlowBodyGuard(server, config.uploadIdleMs);

  await server.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        mediaSrc: ["'self'"],
        styleSrc: ["'self'"],
        scriptSrc: ["'self'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    // Plain-HTTP self-hosting is common; HSTS belongs to the TLS-terminating proxy.
    strictTransportSecurity: false,
  });
  await server.register(fastifyCookie);
  await server.register(fastifySession, {
    secret: sessionSecret,
    cookieName: 'reprise_session',
    store: sessionStore<Session>(deps.store.sessions, config.sessionTtlMs),
    saveUninitialized: false,
    cookie: { secure: 'auto', httpOnly: true, sameSite: 'lax', maxAge: config.sessionTtlMs, path: '/' },
  });
  await server.register(fastifyCsrf, { sessionPlugin: '@fastify/session', getToken: csrfTokenOf });
  await server.register(fastifyFormbody);
  await server.register(fastifyMultipart, {
    limits: { fileSize: config.maxUploadBytes, files: 1, fields: 30, fieldSize: 64 * 1024 },
  });
  await server.register(fastifyRateLimit, { global: false });
  const throttles = createThrottles(server, config);
  await server.register(fastifyStatic, { root: staticDir, prefix: '/static/', maxAge: '1h' });
  // The resumable-upload client, served from our own origin (the CSP allows no other).
  await server.register(fastifyStatic, { root: tusClientDir, prefix: '/static/vendor/', maxAge: '1h', decorateReply: false, allowedPath: (p) => p === '/tus.min.js' });

  server.setErrorHandler(errorHandler(deps));
  server.setNotFoundHandler(() => {
    throw notFound('page');
  });

  server.get('/healthz', () => ({ status: 'ok' }));
  // After the error handler: a route takes the handler set when it is registered.
  if (app.metrics && config.metricsToken) registerMetrics(server, app.metrics, config.metricsToken);
  server.get('/readyz', async (_request, reply) => {
    const checks = await app.ready();
    const ok = checks.database && checks.storage;
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unavailable', ...checks });
  });
  await server.register(authPages(app, throttles));
  await server.register(filePages(app));
  await server.register(notificationPages(app));
  await server.register(settingsPages(app));
  await server.register(presetPages(app));
  await server.register(zipPages(app));
  await server.register(adminPages(app));
  await server.register(
    async (api) => {
      // First: the description is generated from the routes registered after it in this scope.
      await registerOpenApi(api);
      api.addHook('preHandler', apiRateLimit(server, config));
      await api.register(apiRoutes(app, throttles));
      await api.register(eventRoutes(app));
      await api.register(webhookRoutes(app));
      await api.register(presetRoutes(app));
      await api.register(mailSettingsRoutes(app));
      await api.register(retentionRoutes(app));
      await api.register(resumableUploadRoutes(app, app.resumable));
      await api.register(zipApiRoutes(app));
      await api.register(adminApiRoutes(app));
      await api.register(usageRoutes(app));
    },
    { prefix: '/api/v1' },
  );
  return server;
}
