import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { WebContext } from '../context.ts';
import type { PushEvent } from '../../domain/ports.ts';
import { AppError } from '../../errors.ts';
import { requireApiUser, stillAuthenticated } from '../auth.ts';
import { eventStreamSchema } from '../schemas/events.ts';

const REPLAY_LIMIT = 1000;

const frame = (e: PushEvent) => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`;

/**
 * Server-Sent Events for the signed-in user. Live events arrive through the push hub; a client
 * that reconnects with Last-Event-ID first gets what it missed, read from the events table.
 */
export function eventRoutes(app: WebContext) {
  const { deps } = app;
  return async (plain: FastifyInstance) => {
    const server = plain.withTypeProvider<TypeBoxTypeProvider>();
    // Streams never go idle, so a graceful shutdown has to end them itself.
    const open = new Set<{ end(): void }>();
    // Each stream holds a socket and a subscription; a handful per user covers every tab.
    const perUser = new Map<string, number>();
    server.addHook('preClose', async () => open.forEach((raw) => raw.end()));

    // Authentication before validation: a caller without a token learns nothing about the route.
    server.get('/events', { schema: eventStreamSchema, preValidation: requireApiUser(deps) }, async (request, reply) => {
      // A HEAD has no body to stream: answer the headers and end, or it would never be answered.
      if (request.method === 'HEAD') return reply.type('text/event-stream; charset=utf-8').header('cache-control', 'no-cache, no-transform').send(undefined);
      const userId = request.userId;
      const streams = perUser.get(userId) ?? 0;
      if (streams >= deps.config.eventStreamsPerUser) {
        throw new AppError('too_many_streams', 429, `At most ${deps.config.eventStreamsPerUser} event streams may be open at once for one account. Close another tab or stream.`);
      }
      perUser.set(userId, streams + 1);
      const header = request.headers['last-event-id'] ?? request.query.lastEventId;
      const resumeFrom = typeof header === 'string' && /^\d{1,15}$/.test(header.trim()) ? Number(header) : NaN;
      const raw = reply.raw;
      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write('retry: 2000\n\n');

      // Subscribe before reading the backlog, hold live events until the backlog is out, and let
      // ids drop the overlap: nothing is lost between the two and nothing is sent twice.
      // Dedupe by id, not by order: with PostgreSQL, concurrent transactions can commit their
      // events out of id order, and a later-committed lower id must still be delivered.
      let backlogDone = false;
      const held: PushEvent[] = [];
      const recent = new Set<number>();
      let floor = 0;
      const send = (e: PushEvent) => {
        if (e.id <= floor || recent.has(e.id)) return;
        recent.add(e.id);
        if (recent.size > 500) recent.delete(recent.values().next().value as number);
        raw.write(frame(e));
      };
      const unsubscribe = deps.push.subscribe(userId, (e) => (backlogDone ? send(e) : held.push(e)));
      // Each heartbeat also asks whether the stream's credentials still hold: revoking a token,
      // signing out or deleting the account ends its open streams within one interval.
      const heartbeat = setInterval(() => {
        raw.write(': heartbeat\n\n');
        stillAuthenticated(deps, request).then(
          (ok) => {
            if (ok || closed) return;
            raw.end('event: unauthorized\ndata: {}\n\n');
            close();
          },
          (err: unknown) => request.log.warn({ err }, 'could not re-check an event stream'),
        );
      }, deps.config.eventHeartbeatMs);
      open.add(raw);
      deps.metrics.eventStreams(1);
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        deps.metrics.eventStreams(-1);
        const left = (perUser.get(userId) ?? 1) - 1;
        if (left > 0) perUser.set(userId, left);
        else perUser.delete(userId);
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(raw);
      };
      raw.once('close', close);
      // A client gone before we attached the listener will never emit 'close' again.
      if (raw.destroyed || request.raw.socket.destroyed) close();

      try {
        if (Number.isSafeInteger(resumeFrom)) {
          floor = resumeFrom;
          for (const e of await deps.store.events.listSince(userId, resumeFrom, REPLAY_LIMIT)) send(e);
        } else {
          // A fresh stream starts now; tell the client where "now" is so a reconnect can resume.
          floor = await deps.store.events.latestId(userId);
          raw.write(`id: ${floor}\nevent: ready\ndata: {}\n\n`);
        }
        backlogDone = true;
        held.forEach(send);
        held.length = 0;
      } catch (err) {
        request.log.error({ err }, 'event stream failed');
        close();
        raw.destroy();
      }
    });
  };
}
