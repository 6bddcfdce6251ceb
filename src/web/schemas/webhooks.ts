import { Type } from 'typebox';
import { webhookEventTypes } from '../../domain/webhook-events.ts';
import type { WebhookEndpointView } from '../../domain/webhooks.ts';
import { DateTime, IdParams, Nullable, empty, json, jsonBody, notFound, problem, readOnly, ref, unauthenticated, withCode } from './common.ts';

const literals = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)));
const subscribable = webhookEventTypes.filter((t) => t !== 'webhook.test');

export const WebhookEndpointSchema = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    description: Type.String(),
    events: Type.Array(literals(subscribable), { description: 'Empty: every event' }),
    enabled: Type.Boolean(),
    disabledReason: Nullable(Type.String()),
    createdAt: DateTime(),
    updatedAt: DateTime(),
  },
  { $id: 'WebhookEndpoint', title: 'WebhookEndpoint' },
);

export const WebhookDeliverySchema = Type.Object(
  {
    id: Type.String({ description: 'The webhook-id header of every attempt' }),
    eventType: literals(webhookEventTypes),
    state: literals(['pending', 'succeeded', 'failed']),
    attempts: Type.Integer(),
    lastStatus: Nullable(Type.Integer()),
    lastError: Nullable(Type.String()),
    durationMs: Nullable(Type.Integer()),
    nextAttemptAt: Nullable(DateTime()),
    createdAt: DateTime(),
  },
  { $id: 'WebhookDelivery', title: 'WebhookDelivery' },
);

/** Every field optional: POST needs url, which the domain checks (422 invalid_url). */
export const WebhookEndpointInputSchema = Type.Object(
  {
    url: Type.Optional(withCode(Type.String({ maxLength: 2000, description: 'http or https, no credentials; internal addresses are refused (webhook_url_forbidden)' }), 'invalid_url')),
    events: Type.Optional(withCode(Nullable(Type.Array(Type.String({ enum: subscribable })), 'Absent, null or empty: every event'), 'invalid_events')),
    description: Type.Optional(withCode(Nullable(Type.String({ description: 'The first 200 characters are kept' })), 'invalid_description')),
    enabled: Type.Optional(withCode(Type.Boolean({ description: 'PATCH only: true turns a disabled endpoint back on' }), 'invalid_enabled')),
  },
  { $id: 'WebhookEndpointInput', title: 'WebhookEndpointInput' },
);
export type WebhookInput = { url?: unknown; events?: unknown; description?: unknown; enabled?: unknown };

const endpoint = ref<WebhookEndpointView>('WebhookEndpoint');
export const WebhookEndpointWithSecretSchema = Type.Object(
  { ...WebhookEndpointSchema.properties, secret: Type.String({ pattern: '^whsec_', description: 'The signing secret, shown only in this answer' }) },
  { $id: 'WebhookEndpointWithSecret', title: 'WebhookEndpointWithSecret' },
);
const withSecret = ref<WebhookEndpointView & { secret: string }>('WebhookEndpointWithSecret');
const delivery = ref<ReturnType<typeof import('../../domain/webhooks.ts').toDeliveryView>>('WebhookDelivery');
const input = jsonBody(ref<WebhookInput>('WebhookEndpointInput'));
const params = IdParams('Endpoint');
const errors = { 401: unauthenticated, 404: notFound('webhook endpoint') };
const writeErrors = { ...errors, 403: readOnly };

export const listWebhooksSchema = {
  summary: "List the caller's webhook endpoints (never their secrets)",
  response: { 200: json(Type.Object({ webhooks: Type.Array(endpoint) }), 'Endpoints'), 401: unauthenticated },
};

export const createWebhookSchema = {
  summary: 'Add an endpoint; the answer carries its signing secret, shown only here',
  description:
    'Events are POSTed as JSON {type, timestamp, data} (data: the file resource as GET /files/{id} shows it), signed per the Standard Webhooks specification (webhook-id, webhook-timestamp, webhook-signature). 2xx is success; anything else, a timeout or a refused connection is retried on WEBHOOK_RETRY_SCHEDULE under the same webhook-id (Retry-After honoured on 429/503; redirects are not followed). 410 disables the endpoint at once; a delivery that fails the whole schedule disables it and notifies its owner. URLs naming loopback, private, link-local, CGNAT, multicast or metadata addresses are refused (422 webhook_url_forbidden) unless the operator sets WEBHOOK_ALLOW_PRIVATE=true; names are checked again on the address actually connected to.',
  body: input,
  response: {
    201: json(withSecret, 'Created; Location names the endpoint'),
    401: unauthenticated,
    403: readOnly,
    409: problem('At most 20 endpoints per account (too_many_endpoints)'),
    422: problem('invalid_url, webhook_url_forbidden, invalid_events or invalid_description'),
  },
};

export const getWebhookSchema = { summary: 'One endpoint', params, response: { 200: json(endpoint, 'Endpoint'), ...errors } };

export const updateWebhookSchema = {
  summary: 'Change url, events, description, or enabled (true turns a disabled endpoint back on)',
  params,
  body: input,
  response: { 200: json(endpoint, 'Endpoint'), ...writeErrors, 422: problem('invalid_url, webhook_url_forbidden, invalid_events, invalid_description or invalid_enabled') },
};

export const deleteWebhookSchema = { summary: 'Remove an endpoint and its delivery log', params, response: { 204: empty('Deleted'), ...writeErrors } };

export const rotateSecretSchema = {
  summary: 'Replace the signing secret; the answer carries the new one',
  params,
  response: { 200: json(withSecret, 'Endpoint with its new secret'), ...writeErrors },
};

export const listDeliveriesSchema = {
  summary: 'The last 100 deliveries, newest first',
  params,
  response: { 200: json(Type.Object({ deliveries: Type.Array(delivery) }), 'Deliveries'), ...errors },
};

export const replaySchema = {
  summary: 'Send a delivery again, under the same webhook-id, with a fresh retry schedule',
  params: Type.Object({ id: params.properties.id, deliveryId: Type.String({ pattern: '^msg_[0-9a-f]{32}$', description: 'Delivery id' }) }),
  response: { 202: json(delivery, 'Queued'), ...writeErrors, 404: notFound('endpoint or delivery'), 409: problem('The endpoint is disabled (endpoint_disabled)') },
};

export const testWebhookSchema = {
  summary: 'Send a webhook.test event to this endpoint',
  params,
  response: {
    202: json(Type.Object({ deliveryId: Nullable(Type.String()) }), 'Queued'),
    ...writeErrors,
    409: problem('The endpoint is disabled (endpoint_disabled)'),
  },
};
