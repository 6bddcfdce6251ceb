/**
 * The seams between domain code and the outside world. Domain functions receive these as `deps`
 * and never import a database driver, a web framework or child_process themselves.
 */
import type { Readable } from 'node:stream';
import type { Config } from '../config.ts';
import type { FileRow, FileStatus, NotificationRow, OutputRow, UserRow, WebhookDeliveryRow, WebhookEndpointRow } from '../db/schema.ts';
import type { EnqueueOptions, Job, JobPayload } from '../jobs/definitions.ts';
import type { Logger } from '../log.ts';
import type { Media } from '../media/types.ts';
import type { Metrics } from './metrics-port.ts';

export type { FileRow, FileStatus, NotificationRow, OutputRow, UserRow, WebhookDeliveryRow, WebhookEndpointRow };

export interface UsersRepo {
  /** Returns false when the username is taken. */
  create(user: UserRow): Promise<boolean>;
  findByUsername(username: string): Promise<UserRow | undefined>;
  findById(id: string): Promise<UserRow | undefined>;
}

/** An API token as its owner sees it: everything but the secret (never stored) and its hash. */
export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  /** The token's first characters; '' for tokens issued before prefixes were kept. */
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
  /** Epoch ms after which the token is refused; null: never. */
  expiresAt: number | null;
  readOnly: boolean;
}

export interface TokensRepo {
  create(token: Omit<ApiToken, 'lastUsedAt'> & { tokenHash: string }): Promise<void>;
  /** The token with this hash if it exists and has not expired at `now` (also notes its use). */
  findUsable(tokenHash: string, now: number): Promise<ApiToken | undefined>;
  /** The user's tokens, newest first, expired ones included. */
  listForUser(userId: string): Promise<ApiToken[]>;
  /** Deletes the user's token; false when the user has no token with this id. */
  deleteForUser(userId: string, id: string): Promise<boolean>;
}

export interface FileGuard {
  generation?: number;
  statusIn?: readonly FileStatus[];
}

export interface FilesRepo {
  insert(file: FileRow): Promise<void>;
  listForUser(userId: string): Promise<FileRow[]>;
  findForUser(userId: string, id: string): Promise<FileRow | undefined>;
  /** Unscoped: for the job handler, which acts on behalf of the file's owner. */
  findById(id: string): Promise<FileRow | undefined>;
  /** Applies the patch only if the guard still holds; tells whether a row changed. */
  update(id: string, patch: Partial<FileRow>, guard?: FileGuard): Promise<boolean>;
  deleteForUser(userId: string, id: string): Promise<boolean>;
}

export interface OutputsRepo {
  listForFile(fileId: string): Promise<OutputRow[]>;
  listForFiles(fileIds: readonly string[]): Promise<OutputRow[]>;
  find(fileId: string, presetId: string): Promise<OutputRow | undefined>;
  upsert(output: OutputRow): Promise<void>;
  deleteForFile(fileId: string): Promise<void>;
}

export interface NotificationsRepo {
  /** Inserts unless a notification with the same dedupe key exists; tells whether it inserted. */
  insertOnce(notification: NotificationRow): Promise<boolean>;
  listForUser(userId: string, opts: { unreadOnly: boolean; limit: number }): Promise<NotificationRow[]>;
  dismiss(userId: string, id: string, now: number): Promise<NotificationRow | undefined>;
  dismissAll(userId: string, now: number): Promise<string[]>;
}

export interface EventsRepo {
  insert(event: { userId: string; type: PushEvent['type']; data: object; createdAt: number }): Promise<number>;
  /** The user's events after `afterId`, oldest first: what a reconnecting stream missed. */
  listSince(userId: string, afterId: number, limit: number): Promise<PushEvent[]>;
  latestId(userId: string): Promise<number>;
  pruneBefore(time: number): Promise<number>;
}

export interface WebhookEndpointsRepo {
  insert(row: WebhookEndpointRow): Promise<void>;
  listForUser(userId: string): Promise<WebhookEndpointRow[]>;
  findForUser(userId: string, id: string): Promise<WebhookEndpointRow | undefined>;
  findById(id: string): Promise<WebhookEndpointRow | undefined>;
  update(userId: string, id: string, patch: Partial<Omit<WebhookEndpointRow, 'id' | 'user_id'>>): Promise<boolean>;
  remove(userId: string, id: string): Promise<boolean>;
  enabledForUser(userId: string): Promise<WebhookEndpointRow[]>;
}

export interface WebhookDeliveriesRepo {
  insert(row: WebhookDeliveryRow): Promise<void>;
  findById(id: string): Promise<WebhookDeliveryRow | undefined>;
  /** Newest first. */
  listForEndpoint(endpointId: string, limit: number): Promise<WebhookDeliveryRow[]>;
  update(id: string, patch: Partial<Omit<WebhookDeliveryRow, 'id'>>): Promise<void>;
}

export interface ResumableUploadsRepo {
  insert(row: { id: string; user_id: string; size: number | null; created_at: number }): Promise<void>;
  ownerOf(id: string): Promise<string | undefined>;
  countForUser(userId: string): Promise<number>;
  remove(id: string): Promise<void>;
  /** Forgets uploads started before `before`; returns their ids so their bytes can go too. */
  removeOlderThan(before: number): Promise<string[]>;
}

export interface SessionsRepo {
  save(session: { sid: string; userId: string | null; data: string; expiresAt: number }): Promise<void>;
  /** The session's data, unless it is missing or expired at `now`. */
  find(sid: string, now: number): Promise<string | undefined>;
  remove(sid: string): Promise<void>;
  removeExpired(now: number): Promise<number>;
}

export interface Store {
  users: UsersRepo;
  tokens: TokensRepo;
  files: FilesRepo;
  outputs: OutputsRepo;
  notifications: NotificationsRepo;
  events: EventsRepo;
  webhookEndpoints: WebhookEndpointsRepo;
  webhookDeliveries: WebhookDeliveriesRepo;
  resumableUploads: ResumableUploadsRepo;
  sessions: SessionsRepo;
  /** Runs fn in one database transaction; everything fn does through `tx` commits or none of it. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
}

export interface BlobStat {
  size: number;
}

export interface BlobStore {
  /** Objects are local files: probing an upload costs nothing, so it happens before the job. */
  readonly local: boolean;
  /** Streams into the key; the object becomes visible only when complete. Returns bytes written. */
  put(key: string, body: Readable): Promise<number>;
  /** Publishes a finished local file under the key (moved if possible). */
  putFile(key: string, filePath: string): Promise<number>;
  stat(key: string): Promise<BlobStat | undefined>;
  /** Streams the object, or the inclusive byte range of it. */
  get(key: string, range?: { start: number; end: number }): Promise<Readable>;
  /** A local path to read the object from, and a release function to call when done. */
  openLocal(key: string, scratchDir: string): Promise<{ path: string; release(): Promise<void> }>;
  deletePrefix(prefix: string): Promise<void>;
}

export type TranscodeJob = JobPayload<'transcode'>;

export interface JobQueue {
  /** Enqueues inside the caller's transaction: no job without the change it belongs to, and the reverse. */
  enqueue(tx: Store, job: Job, opts?: EnqueueOptions): Promise<void>;
  /** Inside the caller's transaction, drops a job with this key that has not started yet. */
  removeQueued(tx: Store, key: string): Promise<void>;
}

export interface WebhookSendResult {
  status: number;
  retryAfterSeconds?: number;
  durationMs: number;
}

/** Sends one signed webhook request; rejects on a refused address, a network error or a timeout. */
export interface WebhookSender {
  send(request: { url: string; headers: Record<string, string>; body: string; timeoutMs: number }): Promise<WebhookSendResult>;
}

export interface PushEvent {
  /** The event's row id: the SSE id a reconnecting client sends back as Last-Event-ID. */
  id: number;
  type: 'notification.created' | 'notification.dismissed' | 'file.updated';
  /** JSON-serializable payload. */
  data: object;
}

export interface PushHub {
  publish(userId: string, event: PushEvent): void;
  subscribe(userId: string, listener: (event: PushEvent) => void): () => void;
}

export interface Deps {
  config: Config;
  store: Store;
  blobs: BlobStore;
  queue: JobQueue;
  media: Media;
  push: PushHub;
  webhookSender: WebhookSender;
  log: Logger;
  /** What an operator's metrics record (a no-op without METRICS_TOKEN). */
  metrics: Metrics;
  now(): number;
  newId(): string;
}
