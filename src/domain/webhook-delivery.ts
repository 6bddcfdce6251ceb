import { deliveryKey, type JobPayload } from '../jobs/definitions.ts';
import { signWebhook } from '../webhooks/signing.ts';
import { pushEvents } from './events.ts';
import { recordNotice } from './notifications.ts';
import type { Deps, Store, WebhookDeliveryRecord, WebhookEndpointRecord, WebhookSendResult } from './ports.ts';

export type DeliveryOutcome = 'succeeded' | 'retrying' | 'failed' | 'skipped';

/** Retry-After is honoured, but never beyond a day: a receiver cannot park a delivery forever. */
const MAX_RETRY_AFTER_MS = 24 * 3600_000;

const describe = (result: WebhookSendResult | undefined, error: string | undefined) =>
  error ?? (result ? `HTTP ${result.status}` : 'no answer');

/**
 * One attempt at one delivery (the `webhook.deliver` job). Every attempt signs the same body under
 * the same webhook-id with a fresh timestamp. 2xx is success. 410 disables the endpoint at once;
 * anything else (3xx included: redirects are not followed), a timeout or a refused connection is
 * retried on WEBHOOK_RETRY_SCHEDULE, honouring Retry-After on 429/503. A delivery that fails the
 * whole schedule disables its endpoint and tells the owner.
 */
export async function deliverWebhook(deps: Deps, job: JobPayload<'webhook.deliver'>): Promise<DeliveryOutcome> {
  const delivery = await deps.store.webhookDeliveries.findById(job.deliveryId);
  if (!delivery || delivery.state !== 'pending') return 'skipped';
  const endpoint = await deps.store.webhookEndpoints.findById(delivery.endpoint_id);
  if (!endpoint) return 'skipped';
  if (!endpoint.enabled) {
    await deps.store.webhookDeliveries.update(delivery.id, { state: 'failed', last_error: 'the endpoint is disabled', next_attempt_at: null, updated_at: deps.now() });
    return 'failed';
  }

  const timestamp = Math.floor(deps.now() / 1000);
  const headers = {
    'webhook-id': delivery.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(endpoint.secret, delivery.id, timestamp, delivery.body),
  };
  let result: WebhookSendResult | undefined;
  let error: string | undefined;
  const started = deps.now();
  try {
    result = await deps.webhookSender.send({ url: endpoint.url, headers, body: delivery.body, timeoutMs: deps.config.webhooks.timeoutMs });
  } catch (err) {
    error = (err instanceof Error ? err.message : String(err)).slice(0, 300);
  }
  const attempts = delivery.attempts + 1;
  const now = deps.now();
  const common = { attempts, last_status: result?.status ?? null, last_error: error ?? null, last_duration_ms: result?.durationMs ?? now - started, updated_at: now };

  if (result && result.status >= 200 && result.status < 300) {
    await deps.store.webhookDeliveries.update(delivery.id, { ...common, state: 'succeeded', next_attempt_at: null });
    return 'succeeded';
  }
  if (result?.status === 410) {
    await giveUp(deps, delivery, endpoint, common, 'the receiver answered 410 Gone');
    return 'failed';
  }
  const schedule = deps.config.webhooks.retryScheduleMs;
  const delay = schedule[attempts - 1];
  if (delay === undefined) {
    await giveUp(deps, delivery, endpoint, common, `every attempt failed for the whole retry schedule (last: ${describe(result, error)})`);
    return 'failed';
  }
  const asked = result && (result.status === 429 || result.status === 503) && result.retryAfterSeconds !== undefined ? result.retryAfterSeconds * 1000 : 0;
  const runAt = now + Math.max(delay, Math.min(asked, MAX_RETRY_AFTER_MS));
  await deps.store.transaction(async (tx) => {
    await tx.webhookDeliveries.update(delivery.id, { ...common, next_attempt_at: runAt });
    const payload = { deliveryId: delivery.id };
    await tx.jobs.enqueue({ name: 'webhook.deliver', payload }, { key: deliveryKey(payload), runAt });
  });
  return 'retrying';
}

/** Fails the delivery, disables its endpoint and notifies the owner, in one transaction. */
async function giveUp(
  deps: Deps,
  delivery: WebhookDeliveryRecord,
  endpoint: WebhookEndpointRecord,
  common: Partial<WebhookDeliveryRecord>,
  why: string,
): Promise<void> {
  const events = await deps.store.transaction(async (tx: Store) => {
    const now = deps.now();
    await tx.webhookDeliveries.update(delivery.id, { ...common, state: 'failed', next_attempt_at: null });
    await tx.webhookEndpoints.update(endpoint.user_id, endpoint.id, { enabled: false, disabled_reason: why, updated_at: now });
    const notice = await recordNotice(tx, deps, {
      userId: endpoint.user_id,
      message: `Webhook endpoint ${endpoint.url} was disabled: ${why}. Fix the receiver, then turn it back on in Settings.`,
      dedupeKey: `webhook:${endpoint.id}:disabled:${delivery.id}`,
    });
    return notice ? [notice] : [];
  });
  pushEvents(deps, events);
}
