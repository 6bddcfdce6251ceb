import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { WebContext } from '../context.ts';
import {
  createEndpoint, deleteEndpoint, getEndpoint, listDeliveries, listEndpoints, replayDelivery, rotateSecret, sendTest, updateEndpoint,
} from '../../domain/webhooks.ts';
import { requireApiUser } from '../auth.ts';
import {
  createWebhookSchema, deleteWebhookSchema, getWebhookSchema, listDeliveriesSchema, listWebhooksSchema, replaySchema, rotateSecretSchema,
  testWebhookSchema, updateWebhookSchema, type WebhookInput,
} from '../schemas/webhooks.ts';

/** A JSON body has passed its schema; a form body has not, and reaches the domain's checks as is. */
const fields = (body: unknown): WebhookInput => (body && typeof body === 'object' && !Array.isArray(body) ? body : {});

/** Outbound webhook endpoints and their deliveries, per user, under /api/v1/webhooks. */
export function webhookRoutes(app: WebContext) {
  const { deps } = app;
  return async (plain: FastifyInstance) => {
    const server = plain.withTypeProvider<TypeBoxTypeProvider>();
    // Before validation: a caller without a token learns nothing about what a route accepts.
    server.addHook('preValidation', requireApiUser(deps));

    server.get('/webhooks', { schema: listWebhooksSchema }, async (request) => ({ webhooks: await listEndpoints(deps, request.userId) }));
    server.post('/webhooks', { schema: createWebhookSchema }, async (request, reply) => {
      const created = await createEndpoint(deps, request.userId, fields(request.body));
      return reply.status(201).header('Location', `/api/v1/webhooks/${created.id}`).send(created);
    });
    server.get('/webhooks/:id', { schema: getWebhookSchema }, (request) => getEndpoint(deps, request.userId, request.params.id));
    server.patch('/webhooks/:id', { schema: updateWebhookSchema }, (request) => updateEndpoint(deps, request.userId, request.params.id, fields(request.body)));
    server.delete('/webhooks/:id', { schema: deleteWebhookSchema }, async (request, reply) => {
      await deleteEndpoint(deps, request.userId, request.params.id);
      return reply.status(204).send();
    });
    server.post('/webhooks/:id/rotate-secret', { schema: rotateSecretSchema }, (request) => rotateSecret(deps, request.userId, request.params.id));
    server.get('/webhooks/:id/deliveries', { schema: listDeliveriesSchema }, async (request) => ({
      deliveries: await listDeliveries(deps, request.userId, request.params.id),
    }));
    server.post('/webhooks/:id/deliveries/:deliveryId/replay', { schema: replaySchema }, async (request, reply) =>
      reply.status(202).send(await replayDelivery(deps, request.userId, request.params.id, request.params.deliveryId)),
    );
    server.post('/webhooks/:id/test', { schema: testWebhookSchema }, async (request, reply) => reply.status(202).send(await sendTest(deps, request.userId, request.params.id)));
  };
}
