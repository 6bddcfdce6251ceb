/** The webhook part of the API description (see openapi.ts, which merges it in). */
const problem = { $ref: '#/components/responses/Problem' };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' }, description: 'Endpoint id' };
const errors = { 401: problem, 404: problem };
const eventTypes = ['file.completed', 'file.failed', 'file.canceled'];

export const webhookPaths = {
  '/webhooks': {
    get: { summary: "List the caller's webhook endpoints (never their secrets)", responses: { 200: { description: 'Endpoints', ...json({ type: 'object', properties: { webhooks: { type: 'array', items: ref('WebhookEndpoint') } } }) }, 401: problem } },
    post: {
      summary: 'Add an endpoint; the answer carries its signing secret, shown only here',
      description:
        'Events are POSTed as JSON {type, timestamp, data} (data: the file resource as GET /files/{id} shows it), signed per the Standard Webhooks specification (webhook-id, webhook-timestamp, webhook-signature). 2xx is success; anything else, a timeout or a refused connection is retried on WEBHOOK_RETRY_SCHEDULE under the same webhook-id (Retry-After honoured on 429/503; redirects are not followed). 410 disables the endpoint at once; a delivery that fails the whole schedule disables it and notifies its owner. URLs naming loopback, private, link-local, CGNAT, multicast or metadata addresses are refused (422 webhook_url_forbidden) unless the operator sets WEBHOOK_ALLOW_PRIVATE=true; names are checked again on the address actually connected to.',
      requestBody: json(ref('WebhookEndpointInput')),
      responses: { 201: { description: 'Created', ...json({ allOf: [ref('WebhookEndpoint'), { type: 'object', properties: { secret: { type: 'string', pattern: '^whsec_' } } }] }) }, 401: problem, 409: problem, 422: problem },
    },
  },
  '/webhooks/{id}': {
    parameters: [id],
    get: { summary: 'One endpoint', responses: { 200: { description: 'Endpoint', ...json(ref('WebhookEndpoint')) }, ...errors } },
    patch: { summary: 'Change url, events, description, or enabled (true turns a disabled endpoint back on)', requestBody: json(ref('WebhookEndpointInput')), responses: { 200: { description: 'Endpoint', ...json(ref('WebhookEndpoint')) }, ...errors, 422: problem } },
    delete: { summary: 'Remove an endpoint and its delivery log', responses: { 204: { description: 'Deleted' }, ...errors } },
  },
  '/webhooks/{id}/rotate-secret': { parameters: [id], post: { summary: 'Replace the signing secret; the answer carries the new one', responses: { 200: { description: 'Endpoint with its new secret', ...json(ref('WebhookEndpoint')) }, ...errors } } },
  '/webhooks/{id}/deliveries': { parameters: [id], get: { summary: 'The last 100 deliveries, newest first', responses: { 200: { description: 'Deliveries', ...json({ type: 'object', properties: { deliveries: { type: 'array', items: ref('WebhookDelivery') } } }) }, ...errors } } },
  '/webhooks/{id}/deliveries/{deliveryId}/replay': {
    parameters: [id, { name: 'deliveryId', in: 'path', required: true, schema: { type: 'string' } }],
    post: { summary: 'Send a delivery again, under the same webhook-id, with a fresh retry schedule', responses: { 202: { description: 'Queued', ...json(ref('WebhookDelivery')) }, ...errors, 409: problem } },
  },
  '/webhooks/{id}/test': { parameters: [id], post: { summary: 'Send a webhook.test event to this endpoint', responses: { 202: { description: 'Queued', ...json({ type: 'object', properties: { deliveryId: { type: 'string' } } }) }, ...errors, 409: problem } } },
};

export const webhookSchemas = {
  WebhookEndpointInput: {
    type: 'object',
    properties: {
      url: { type: 'string', format: 'uri', maxLength: 2000 },
      events: { type: 'array', items: { enum: eventTypes }, description: 'Absent or empty: every event' },
      description: { type: 'string', maxLength: 200 },
      enabled: { type: 'boolean' },
    },
  },
  WebhookEndpoint: {
    type: 'object',
    properties: {
      id: { type: 'string' }, url: { type: 'string' }, description: { type: 'string' },
      events: { type: 'array', items: { enum: eventTypes } }, enabled: { type: 'boolean' },
      disabledReason: { type: ['string', 'null'] }, createdAt: { type: 'string', format: 'date-time' }, updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  WebhookDelivery: {
    type: 'object',
    properties: {
      id: { type: 'string', description: 'The webhook-id header of every attempt' },
      eventType: { enum: [...eventTypes, 'webhook.test'] }, state: { enum: ['pending', 'succeeded', 'failed'] },
      attempts: { type: 'integer' }, lastStatus: { type: ['integer', 'null'] }, lastError: { type: ['string', 'null'] },
      durationMs: { type: ['integer', 'null'] }, nextAttemptAt: { type: ['string', 'null'], format: 'date-time' }, createdAt: { type: 'string', format: 'date-time' },
    },
  },
};
