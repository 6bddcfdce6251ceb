import type { Deps } from '../domain/ports.ts';
import { runTranscodeJob } from '../domain/transcode.ts';
import { deliverWebhook } from '../domain/webhook-delivery.ts';
import type { JobHandlers } from './handlers.ts';

/** What runs each job. Adding a name to definitions.ts without a line here does not compile. */
export function jobHandlers(deps: Deps): JobHandlers {
  return {
    transcode: (payload, ctx) => runTranscodeJob(deps, payload, { signal: ctx.signal }),
    'webhook.deliver': (payload) => deliverWebhook(deps, payload),
  };
}
