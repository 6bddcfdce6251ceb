import type { FileRecord, NotificationRecord, UserRecord, WebhookDeliveryRecord, WebhookEndpointRecord } from '../../src/domain/ports.ts';

/** Whole records with plausible values, for the store contract; each takes what a test cares about. */
export const userRecord = (id: string, over: Partial<UserRecord> = {}): UserRecord => ({
  id,
  username: `user-${id}`,
  password_hash: `hash-of-${id}`,
  created_at: 1_700_000_000_000,
  is_admin: false,
  disabled_at: null,
  ...over,
});

export const fileRecord = (id: string, userId: string, over: Partial<FileRecord> = {}): FileRecord => ({
  id,
  user_id: userId,
  name: `Song ${id}`,
  original_filename: `Sóng ${id}.wav`,
  input_key: `files/${id}/input`,
  input_size: 5_000_000_000,
  input_format: 'wav',
  input_codec: 'pcm_s16le',
  duration_ms: 600_000,
  has_cover: true,
  input_sample_rate: 44_100,
  input_channels: 2,
  presets: ['flac-cd', 'aac-256k', 'wav-44k-16'],
  status: 'queued',
  progress: 0,
  error: null,
  waveform: null,
  loudness: { mode: 'podcast', target: { integratedLufs: -16, truePeakDbtp: -1, rangeLu: 11 } },
  loudness_report: null,
  own_presets: [],
  trim: null,
  run_presets: null,
  input_details: { bits: 16, cover: { codec: 'png', width: 600, height: 600 } },
  generation: 1,
  created_at: 1_700_000_000_000,
  updated_at: 1_700_000_000_000,
  expiry_warned_at: null,
  ...over,
});

export const notificationRecord = (id: string, userId: string, over: Partial<NotificationRecord> = {}): NotificationRecord => ({
  id,
  user_id: userId,
  file_id: null,
  kind: 'completed',
  message: `Notification ${id}`,
  dedupe_key: `dedupe:${id}`,
  created_at: 1_700_000_000_000,
  dismissed_at: null,
  ...over,
});

export const endpointRecord = (id: string, userId: string, over: Partial<WebhookEndpointRecord> = {}): WebhookEndpointRecord => ({
  id,
  user_id: userId,
  url: `https://hooks.example/${id}`,
  description: 'a receiver',
  events: ['file.completed', 'file.failed'],
  secret: `whsec_${id}`,
  enabled: true,
  disabled_reason: null,
  created_at: 1_700_000_000_000,
  updated_at: 1_700_000_000_000,
  ...over,
});

export const deliveryRecord = (id: string, endpointId: string, userId: string, over: Partial<WebhookDeliveryRecord> = {}): WebhookDeliveryRecord => ({
  id,
  endpoint_id: endpointId,
  user_id: userId,
  event_type: 'file.completed',
  body: '{"type":"file.completed","data":{"name":"Sóng"}}',
  state: 'pending',
  attempts: 0,
  last_status: null,
  last_error: null,
  last_duration_ms: null,
  next_attempt_at: 1_700_000_000_000,
  created_at: 1_700_000_000_000,
  updated_at: 1_700_000_000_000,
  ...over,
});
