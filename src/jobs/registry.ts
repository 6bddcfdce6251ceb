import type { Deps } from '../domain/ports.ts';
import { sendJobEndMail } from '../domain/job-end-mail.ts';
import { runScheduledSweep } from '../domain/retention-sweep.ts';
import { runJoinJob } from '../domain/segmented/join-job.ts';
import { runSegmentJob } from '../domain/segmented/part-job.ts';
import { deliverWebhook } from '../domain/webhook-delivery.ts';
import type { JobHandlers } from './handlers.ts';
import { measuredTranscode } from './measured.ts';

/** What runs each job. Adding a name to definitions.ts without a line here does not compile. */
export function jobHandlers(deps: Deps): JobHandlers {
  return {
    transcode: (payload, ctx) => measuredTranscode(deps, payload, ctx),
    segment: (payload, ctx) => runSegmentJob(deps, payload, ctx),
    'segment.join': (payload, ctx) => runJoinJob(deps, payload, ctx),
    'webhook.deliver': (payload) => deliverWebhook(deps, payload),
    'mail.send': (payload) => sendJobEndMail(deps, payload),
    'retention.sweep': () => runScheduledSweep(deps),
  };
}
