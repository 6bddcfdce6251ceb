import { isIP } from 'node:net';
import { AppError, conflict, notFound } from '../errors.ts';
import { deliveryKey } from '../jobs/definitions.ts';
import { isForbiddenAddress } from '../webhooks/address-guard.ts';
import { newWebhookSecret } from '../webhooks/signing.ts';
import { cleanText } from './names.ts';
import type { Deps, WebhookDeliveryRecord, WebhookEndpointRecord } from './ports.ts';
import { queueWebhookEvent, webhookEventTypes } from './webhook-events.ts';

const MAX_ENDPOINTS = 20;
const subscribable = webhookEventTypes.filter((t) => t !== 'webhook.test');

export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string;
  events: string[];
  enabled: boolean;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export const toEndpointView = (e: WebhookEndpointRecord): WebhookEndpointView => ({
  id: e.id,
  url: e.url,
  description: e.description,
  events: [...e.events],
  enabled: e.enabled,
  disabledReason: e.disabled_reason,
  createdAt: new Date(e.created_at).toISOString(),
  updatedAt: new Date(e.updated_at).toISOString(),
});

export const toDeliveryView = (d: WebhookDeliveryRecord) => ({
  id: d.id,
  eventType: d.event_type,
  state: d.state,
  attempts: d.attempts,
  lastStatus: d.last_status,
  lastError: d.last_error,
  durationMs: d.last_duration_ms,
  nextAttemptAt: d.next_attempt_at === null ? null : new Date(d.next_attempt_at).toISOString(),
  createdAt: new Date(d.created_at).toISOString(),
});

const invalid = (code: string, detail: string) => new AppError(code, 422, detail);

/** http(s) only, no credentials in the URL, and (unless allowed) no literal private address. */
function checkUrl(raw: unknown, allowPrivate: boolean): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2000) throw invalid('invalid_url', 'Give the endpoint as an http or https URL of at most 2000 characters.');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('invalid_url', 'This is not a valid URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('invalid_url', 'Webhook URLs must use http or https.');
  if (url.username || url.password) throw invalid('invalid_url', 'Put credentials in the receiver, not in the URL: Reprise signs every request instead.');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const local = host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && isForbiddenAddress(host));
  if (local && !allowPrivate) {
    throw invalid('webhook_url_forbidden', `${host} is a loopback, private, link-local or otherwise internal address; webhooks may not reach it (an operator can allow it with WEBHOOK_ALLOW_PRIVATE=true).`);
  }
  return url.toString();
}

function checkEvents(raw: unknown): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.some((e) => typeof e !== 'string')) throw invalid('invalid_events', `events is a list of event types: ${subscribable.join(', ')}.`);
  const unknown = raw.filter((e) => !(subscribable as readonly string[]).includes(e));
  if (unknown.length > 0) throw invalid('invalid_events', `Unknown event type: ${unknown.join(', ')}. Known: ${subscribable.join(', ')}.`);
  return [...new Set(raw as string[])];
}

const checkDescription = (raw: unknown) => {
  if (raw === undefined || raw === null) return '';
  if (typeof raw !== 'string') throw invalid('invalid_description', 'description is a string.');
  return Array.from(cleanText(raw)).slice(0, 200).join('');
};

type Input = { url?: unknown; events?: unknown; description?: unknown; enabled?: unknown };

export async function createEndpoint(deps: Deps, userId: string, input: Input) {
  const url = checkUrl(input.url, deps.config.webhooks.allowPrivate);
  const events = checkEvents(input.events);
  const description = checkDescription(input.description);
  if ((await deps.store.webhookEndpoints.listForUser(userId)).length >= MAX_ENDPOINTS) {
    throw new AppError('too_many_endpoints', 409, `An account can have at most ${MAX_ENDPOINTS} webhook endpoints.`);
  }
  const now = deps.now();
  const row: WebhookEndpointRecord = {
    id: deps.newId(), user_id: userId, url, description, events, secret: newWebhookSecret(),
    enabled: true, disabled_reason: null, created_at: now, updated_at: now,
  };
  await deps.store.webhookEndpoints.insert(row);
  return { ...toEndpointView(row), secret: row.secret };
}

export async function listEndpoints(deps: Pick<Deps, 'store'>, userId: string) {
  return (await deps.store.webhookEndpoints.listForUser(userId)).map(toEndpointView);
}

async function owned(deps: Pick<Deps, 'store'>, userId: string, id: string) {
  const row = await deps.store.webhookEndpoints.findForUser(userId, id);
  if (!row) throw notFound('webhook endpoint');
  return row;
}

export const getEndpoint = async (deps: Pick<Deps, 'store'>, userId: string, id: string) => toEndpointView(await owned(deps, userId, id));

export async function updateEndpoint(deps: Deps, userId: string, id: string, input: Input) {
  await owned(deps, userId, id);
  const patch: Partial<WebhookEndpointRecord> = { updated_at: deps.now() };
  if (input.url !== undefined) patch.url = checkUrl(input.url, deps.config.webhooks.allowPrivate);
  if (input.events !== undefined) patch.events = checkEvents(input.events);
  if (input.description !== undefined) patch.description = checkDescription(input.description);
  if (input.enabled !== undefined) {
    if (typeof input.enabled !== 'boolean') throw invalid('invalid_enabled', 'enabled is true or false.');
    patch.enabled = input.enabled;
    patch.disabled_reason = input.enabled ? null : 'turned off by its owner';
  }
  await deps.store.webhookEndpoints.update(userId, id, patch);
  return getEndpoint(deps, userId, id);
}

export async function rotateSecret(deps: Deps, userId: string, id: string) {
  await owned(deps, userId, id);
  const secret = newWebhookSecret();
  await deps.store.webhookEndpoints.update(userId, id, { secret, updated_at: deps.now() });
  return { ...(await getEndpoint(deps, userId, id)), secret };
}

export async function deleteEndpoint(deps: Pick<Deps, 'store'>, userId: string, id: string) {
  if (!(await deps.store.webhookEndpoints.remove(userId, id))) throw notFound('webhook endpoint');
}

export async function listDeliveries(deps: Pick<Deps, 'store'>, userId: string, id: string) {
  await owned(deps, userId, id);
  return (await deps.store.webhookDeliveries.listForEndpoint(id, 100)).map(toDeliveryView);
}

/** Sends a delivery again under its webhook-id, with a fresh retry schedule. */
export async function replayDelivery(deps: Deps, userId: string, endpointId: string, deliveryId: string) {
  const endpoint = await owned(deps, userId, endpointId);
  if (!endpoint.enabled) throw conflict('Turn the endpoint back on before replaying its deliveries.', 'endpoint_disabled');
  // Delivery ids are ours ("msg_" + 32 hex digits); anything else cannot name one.
  const delivery = /^msg_[0-9a-f]{32}$/.test(deliveryId) ? await deps.store.webhookDeliveries.findById(deliveryId) : undefined;
  if (!delivery || delivery.endpoint_id !== endpointId) throw notFound('delivery');
  const now = deps.now();
  await deps.store.transaction(async (tx) => {
    await tx.webhookDeliveries.update(deliveryId, { state: 'pending', attempts: 0, next_attempt_at: now, updated_at: now });
    const payload = { deliveryId };
    await tx.jobs.enqueue({ name: 'webhook.deliver', payload }, { key: deliveryKey(payload) });
  });
  return toDeliveryView({ ...delivery, state: 'pending', attempts: 0, next_attempt_at: now, updated_at: now });
}

/** A `webhook.test` event to this endpoint only, whatever it subscribes to. */
export async function sendTest(deps: Deps, userId: string, endpointId: string) {
  const endpoint = await owned(deps, userId, endpointId);
  if (!endpoint.enabled) throw conflict('Turn the endpoint back on before testing it.', 'endpoint_disabled');
  const ids = await deps.store.transaction((tx) =>
    queueWebhookEvent(tx, deps, userId, 'webhook.test', { endpointId, message: 'A test event from Reprise.' }, endpointId),
  );
  return { deliveryId: ids[0] ?? null };
}
