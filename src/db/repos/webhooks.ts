import type { Kysely, Updateable } from 'kysely';
import type { WebhookDeliveriesRepo, WebhookEndpointsRepo } from '../../domain/ports.ts';
import type { Database, WebhookDeliveriesTable, WebhookEndpointsTable } from '../schema.ts';

/** Every read or change of an endpoint by its owner is scoped to the owner's id. */
export function webhookEndpointsRepo(db: Kysely<Database>): WebhookEndpointsRepo {
  return {
    async insert(row) {
      await db.insertInto('webhook_endpoints').values(row).execute();
    },
    listForUser(userId) {
      return db.selectFrom('webhook_endpoints').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').execute();
    },
    findForUser(userId, id) {
      return db.selectFrom('webhook_endpoints').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    },
    findById(id) {
      return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async update(userId, id, patch: Updateable<WebhookEndpointsTable>) {
      const result = await db.updateTable('webhook_endpoints').set(patch).where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async remove(userId, id) {
      const result = await db.deleteFrom('webhook_endpoints').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    enabledForUser(userId) {
      return db.selectFrom('webhook_endpoints').selectAll().where('user_id', '=', userId).where('enabled', '=', 1).execute();
    },
  };
}

export function webhookDeliveriesRepo(db: Kysely<Database>): WebhookDeliveriesRepo {
  return {
    async insert(row) {
      await db.insertInto('webhook_deliveries').values(row).execute();
    },
    findById(id) {
      return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    },
    listForEndpoint(endpointId, limit) {
      return db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('endpoint_id', '=', endpointId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
    },
    async update(id, patch: Updateable<WebhookDeliveriesTable>) {
      await db.updateTable('webhook_deliveries').set(patch).where('id', '=', id).execute();
    },
  };
}
