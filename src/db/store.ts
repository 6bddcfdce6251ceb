import type { Kysely } from 'kysely';
import type { Store } from '../domain/ports.ts';
import type { Database } from './schema.ts';
import { eventsRepo } from './repos/events.ts';
import { filesRepo } from './repos/files.ts';
import { notificationsRepo } from './repos/notifications.ts';
import { outputsRepo } from './repos/outputs.ts';
import { tokensRepo } from './repos/tokens.ts';
import { resumableUploadsRepo } from './repos/resumable-uploads.ts';
import { sessionsRepo } from './repos/sessions.ts';
import { usersRepo } from './repos/users.ts';
import { webhookDeliveriesRepo, webhookEndpointsRepo } from './repos/webhooks.ts';

const handles = new WeakMap<Store, Kysely<Database>>();

/**
 * The Kysely handle behind a store (a transaction's, inside `transaction`). Only backends that
 * must join the caller's transaction with SQL of their own (the graphile-worker queue) use it.
 */
export function kyselyOf(store: Store): Kysely<Database> {
  const db = handles.get(store);
  if (!db) throw new Error('not a database-backed store');
  return db;
}

/** Binds every repository to one Kysely handle: the root database or an open transaction. */
export function createStore(db: Kysely<Database>): Store {
  const store: Store = {
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
    transaction: (fn) =>
      db.isTransaction ? fn(createStore(db)) : db.transaction().execute((trx) => fn(createStore(trx))),
  };
  handles.set(store, db);
  return store;
}
