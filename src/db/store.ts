import type { Kysely } from 'kysely';
import type { JobQueue, Store } from '../domain/ports.ts';
import type { Database } from './schema.ts';
import { eventsRepo } from './repos/events.ts';
import { mailSendsRepo, mailSettingsRepo } from './repos/mail.ts';
import { filesRepo } from './repos/files.ts';
import { notificationsRepo } from './repos/notifications.ts';
import { outputsRepo } from './repos/outputs.ts';
import { tokensRepo } from './repos/tokens.ts';
import { resumableUploadsRepo } from './repos/resumable-uploads.ts';
import { sessionsRepo } from './repos/sessions.ts';
import { usersRepo } from './repos/users.ts';
import { userPresetsRepo } from './repos/user-presets.ts';
import { instanceStateRepo } from './repos/instance-state.ts';
import { adminViewsRepo } from './repos/admin-views.ts';
import { retentionRepo } from './repos/retention.ts';
import { quotasRepo } from './repos/quotas.ts';
import { segmentRunsRepo } from './repos/segment-runs.ts';
import { webhookDeliveriesRepo, webhookEndpointsRepo } from './repos/webhooks.ts';

/**
 * A queue backend's way of adding and dropping jobs with SQL on a given handle: the store hands
 * it the handle of its open transaction, so a job commits or rolls back with the rows around it.
 * The composition root picks the backend and passes it in; nothing else reaches the handle.
 */
export type JobsWithin = (db: Kysely<Database>) => JobQueue;

/** Binds every repository, and the job queue, to one Kysely handle: the root database or an open transaction. */
export function createStore(db: Kysely<Database>, jobsWithin: JobsWithin): Store {
  return {
    users: usersRepo(db),
    tokens: tokensRepo(db),
    files: filesRepo(db),
    outputs: outputsRepo(db),
    notifications: notificationsRepo(db),
    events: eventsRepo(db),
    webhookEndpoints: webhookEndpointsRepo(db),
    webhookDeliveries: webhookDeliveriesRepo(db),
    resumableUploads: resumableUploadsRepo(db),
    sessions: sessionsRepo(db),
    userPresets: userPresetsRepo(db),
    mailSettings: mailSettingsRepo(db),
    mailSends: mailSendsRepo(db),
    instance: instanceStateRepo(db),
    adminViews: adminViewsRepo(db),
    retention: retentionRepo(db),
    quotas: quotasRepo(db),
    segmentRuns: segmentRunsRepo(db),
    jobs: jobsWithin(db),
    transaction: (fn) =>
      db.isTransaction
        ? fn(createStore(db, jobsWithin))
        : db.transaction().execute((trx) => fn(createStore(trx, jobsWithin))),
  };
}
