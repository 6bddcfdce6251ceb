import type { Metrics } from '../domain/metrics-port.ts';
import type { WebhookSender } from '../domain/ports.ts';

/** Counts every attempt and every attempt that got no 2xx (refused, timed out, other status). */
export function measuredSender(sender: WebhookSender, metrics: Metrics): WebhookSender {
  return {
    async send(request) {
      try {
        const result = await sender.send(request);
        metrics.webhookDelivered(result.status >= 200 && result.status < 300);
        return result;
      } catch (err) {
        metrics.webhookDelivered(false);
        throw err;
      }
    },
  };
}
