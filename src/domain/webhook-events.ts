import { deliveryKey } from '../jobs/definitions.ts';
import type { Deps, Store } from './ports.ts';

export const webhookEventTypes = ['file.completed', 'file.failed', 'file.canceled', 'webhook.test'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** The Standard Webhooks message id form: a prefix and a unique id. */
const messageId = (deps: Pick<Deps, 'newId'>) => `msg_${deps.newId().replace(/-/g, '')}`;

const subscribed = (events: readonly string[], type: WebhookEventType) => events.length === 0 || events.includes(type);

/**
 * Records an event for every enabled endpoint of the user that wants it, inside the caller's
 * transaction, with the job that will deliver it: a change that rolls back sends nothing, and
 * one that commits is delivered at least once. The body is fixed now, so every attempt (and a
 * replay) sends the same bytes under the same webhook-id.
 */
export async function queueWebhookEvent(
  tx: Store,
  deps: Pick<Deps, 'newId' | 'now'>,
  userId: string,
  type: WebhookEventType,
  data: object,
  onlyEndpointId?: string,
): Promise<string[]> {
  const endpoints = (await tx.webhookEndpoints.enabledForUser(userId)).filter(
    (e) => (onlyEndpointId ? e.id === onlyEndpointId : subscribed(e.events, type)),
  );
  const ids: string[] = [];
  for (const endpoint of endpoints) {
    const now = deps.now();
    const id = messageId(deps);
    const body = JSON.stringify({ type, timestamp: new Date(now).toISOString(), data });
    await tx.webhookDeliveries.insert({
      id,
      endpoint_id: endpoint.id,
      user_id: userId,
      event_type: type,
      body,
      state: 'pending',
      attempts: 0,
      last_status: null,
      last_error: null,
      last_duration_ms: null,
      next_attempt_at: now,
      created_at: now,
      updated_at: now,
    });
    const payload = { deliveryId: id };
    await tx.jobs.enqueue({ name: 'webhook.deliver', payload }, { key: deliveryKey(payload) });
    ids.push(id);
  }
  return ids;
}
