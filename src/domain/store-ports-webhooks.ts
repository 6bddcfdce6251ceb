/** Store ports: users' webhook endpoints and the deliveries made to them (issue 9). */
import type { WebhookDeliveryRecord, WebhookEndpointRecord } from './records.ts';

export interface WebhookEndpointsRepo {
  insert(endpoint: WebhookEndpointRecord): Promise<void>;
  /** Newest first. */
  listForUser(userId: string): Promise<WebhookEndpointRecord[]>;
  findForUser(userId: string, id: string): Promise<WebhookEndpointRecord | undefined>;
  findById(id: string): Promise<WebhookEndpointRecord | undefined>;
  update(userId: string, id: string, patch: Partial<Omit<WebhookEndpointRecord, 'id' | 'user_id'>>): Promise<boolean>;
  remove(userId: string, id: string): Promise<boolean>;
  enabledForUser(userId: string): Promise<WebhookEndpointRecord[]>;
}

export interface WebhookDeliveriesRepo {
  insert(delivery: WebhookDeliveryRecord): Promise<void>;
  findById(id: string): Promise<WebhookDeliveryRecord | undefined>;
  /** Newest first. */
  listForEndpoint(endpointId: string, limit: number): Promise<WebhookDeliveryRecord[]>;
  update(id: string, patch: Partial<Omit<WebhookDeliveryRecord, 'id'>>): Promise<void>;
}
