import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebContext } from '../context.ts';
import { dismissAllNotifications, dismissNotification } from '../../domain/notifications.ts';
import { requirePageUser } from '../auth.ts';
import { safeNext } from '../safety.ts';

const wantsJson = (request: FastifyRequest) => request.headers.accept?.includes('application/json') ?? false;

/** Dismiss forms: they work as plain POSTs, and answer JSON to the page script. */
export function notificationPages(app: WebContext) {
  const { deps } = app;
  return async (server: FastifyInstance) => {
    server.addHook('preHandler', requirePageUser(deps));

    server.post<{ Params: { id: string }; Body: { next?: string } }>(
      '/notifications/:id/dismiss',
      { preHandler: server.csrfProtection },
      async (request, reply) => {
        const n = await dismissNotification(deps, request.userId, request.params.id);
        return wantsJson(request) ? n : reply.redirect(safeNext(request.body?.next), 303);
      },
    );

    server.post<{ Body: { next?: string } }>('/notifications/dismiss-all', { preHandler: server.csrfProtection }, async (request, reply) => {
      const dismissed = await dismissAllNotifications(deps, request.userId);
      return wantsJson(request) ? { dismissed } : reply.redirect(safeNext(request.body?.next), 303);
    });
  };
}
