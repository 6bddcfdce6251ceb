import type { FastifyInstance } from 'fastify';
import type { App } from '../../deps.ts';
import type { PushEvent } from '../../domain/ports.ts';
import { requireApiUser } from '../auth.ts';

const HEARTBEAT_MS = 20_000;
const REPLAY_LIMIT = 1000;

const frame = (e: PushEvent) => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`;

/**
 * Server-Sent Events for the signed-in user. Live events arrive through the push hub; a client
 * that reconnects with Last-Event-ID first gets what it missed, read from the events table.
 */
export function eventRoutes(app: App) {
  const { deps } = app;
  return async (server: FastifyInstance) => {
    // Streams never go idle, so a graceful shutdown has to end them itself.
    const open = new Set<{ end(): void }>();
    server.addHook('preClose', async () => open.forEach((raw) => raw.end()));

    server.get<{ Querystring: { lastEventId?: string } }>('/events', { preHandler: requireApiUser(deps) }, async (request, reply) => {
      const userId = request.userId;
      const header = request.headers['last-event-id'] ?? request.query.lastEventId;
      const resumeFrom = Number(header);
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
      const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), HEARTBEAT_MS);
      open.add(raw);
      const close = () => {
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(raw);
      };
      raw.once('close', close);

      try {
        if (Number.isInteger(resumeFrom) && resumeFrom >= 0 && header !== undefined) {
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
