import type { Kysely, Updateable } from 'kysely';
import type { WebhookDeliveriesRepo, WebhookEndpointRecord, WebhookEndpointsRepo } from '../../domain/ports.ts';
import type { Database, WebhookDeliveriesTable, WebhookEndpointRow, WebhookEndpointsTable } from '../schema.ts';

const toEndpoint = (row: WebhookEndpointRow): WebhookEndpointRecord => ({
  ...row,
  events: JSON.parse(row.events) as string[],
  enabled: Number(row.enabled) === 1,
});

function toColumns(patch: Partial<WebhookEndpointRecord>): Updateable<WebhookEndpointsTable> {
  const { events, enabled, ...plain } = patch;
  const columns: Updateable<WebhookEndpointsTable> = { ...plain };
  if (events !== undefined) columns.events = JSON.stringify(events);
  if (enabled !== undefined) columns.enabled = enabled ? 1 : 0;
  return columns;
}

/** Every read or change of an endpoint by its owner is scoped to the owner's id. */
export function webhookEndpointsRepo(db: Kysely<Database>): WebhookEndpointsRepo {
  const endpoints = () => db.selectFrom('webhook_endpoints').selectAll();
  return {
    async insert(endpoint) {
      await db.insertInto('webhook_endpoints').values({ ...endpoint, events: JSON.stringify(endpoint.events), enabled: endpoint.enabled ? 1 : 0 }).execute();
    },
    async listForUser(userId) {
      return (await endpoints().where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id').execute()).map(toEndpoint);
    },
    async findForUser(userId, id) {
      const row = await endpoints().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
      return row && toEndpoint(row);
    },
    async findById(id) {
      const row = await endpoints().where('id', '=', id).executeTakeFirst();
      return row && toEndpoint(row);
    },
    async update(userId, id, patch) {
      const result = await db.updateTable('webhook_endpoints').set(toColumns(patch)).where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async remove(userId, id) {
      const result = await db.deleteFrom('webhook_endpoints').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async enabledForUser(userId) {
      return (await endpoints().where('user_id', '=', userId).where('enabled', '=', 1).execute()).map(toEndpoint);
    },
  };
}

export function webhookDeliveriesRepo(db: Kysely<Database>): WebhookDeliveriesRepo {
  return {
    async insert(delivery) {
      await db.insertInto('webhook_deliveries').values(delivery).execute();
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
