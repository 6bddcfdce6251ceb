import type { FastifyInstance } from 'fastify';
import type { WebContext } from '../context.ts';
import {
  createEndpoint, deleteEndpoint, getEndpoint, listDeliveries, listEndpoints, replayDelivery, rotateSecret, sendTest, updateEndpoint,
} from '../../domain/webhooks.ts';
import { requireApiUser } from '../auth.ts';

type IdParams = { Params: { id: string } };
type Body = { Body: { url?: unknown; events?: unknown; description?: unknown; enabled?: unknown } | null | undefined };
/** Anything but a JSON object is read as "no fields", so validation names what is missing. */
const fields = (body: unknown) => (body && typeof body === 'object' && !Array.isArray(body) ? body : {});

/** Outbound webhook endpoints and their deliveries, per user, under /api/v1/webhooks. */
export function webhookRoutes(app: WebContext) {
  const { deps } = app;
  return async (server: FastifyInstance) => {
    server.addHook('preHandler', requireApiUser(deps));

    server.get('/webhooks', async (request) => ({ webhooks: await listEndpoints(deps, request.userId) }));
    server.post<Body>('/webhooks', async (request, reply) => {
      const created = await createEndpoint(deps, request.userId, fields(request.body));
      return reply.status(201).header('Location', `/api/v1/webhooks/${created.id}`).send(created);
    });
    server.get<IdParams>('/webhooks/:id', (request) => getEndpoint(deps, request.userId, request.params.id));
    server.patch<IdParams & Body>('/webhooks/:id', (request) => updateEndpoint(deps, request.userId, request.params.id, fields(request.body)));
    server.delete<IdParams>('/webhooks/:id', async (request, reply) => {
      await deleteEndpoint(deps, request.userId, request.params.id);
      return reply.status(204).send();
    });
    server.post<IdParams>('/webhooks/:id/rotate-secret', (request) => rotateSecret(deps, request.userId, request.params.id));
    server.get<IdParams>('/webhooks/:id/deliveries', async (request) => ({ deliveries: await listDeliveries(deps, request.userId, request.params.id) }));
    server.post<{ Params: { id: string; deliveryId: string } }>('/webhooks/:id/deliveries/:deliveryId/replay', async (request, reply) =>
      reply.status(202).send(await replayDelivery(deps, request.userId, request.params.id, request.params.deliveryId)),
    );
    server.post<IdParams>('/webhooks/:id/test', async (request, reply) => reply.status(202).send(await sendTest(deps, request.userId, request.params.id)));
  };
}
