/**
 * The Store seam: one repository per kind of record, all bound to one database handle or one
 * open transaction. Repositories speak in decoded records (./records.ts), never in rows. The
 * repositories of later areas live beside this file, one file per area (store-ports-<area>.ts).
 */
import type { EnqueueOptions, Job } from '../jobs/definitions.ts';
import type { PushEvent } from './push-ports.ts';
import type { ApiToken, FilePosition, FileRecord, FileStatus, NotificationRecord, OutputRecord, ResumableUploadRecord, UserPresetRecord, UserRecord } from './records.ts';
import type { AdminViewsRepo } from './store-ports-admin.ts';
import type { WebhookEndpointsRepo, WebhookDeliveriesRepo } from './store-ports-webhooks.ts';
import type { MailSettingsRepo, MailSendsRepo } from './store-ports-mail.ts';
import type { RetentionRepo } from './store-ports-retention.ts';
import type { QuotasRepo } from './store-ports-quotas.ts';
import type { SegmentRunsRepo } from './store-ports-segments.ts';

export interface UsersRepo {
  /** Returns false when the username is taken. */
  create(user: UserRecord): Promise<boolean>;
  findByUsername(username: string): Promise<UserRecord | undefined>;
  findById(id: string): Promise<UserRecord | undefined>;
  /** Every account, oldest first, with the bytes its files and outputs take (as recorded). */
  listWithUsage(): Promise<UserUsage[]>;
  setAdmin(id: string, isAdmin: boolean): Promise<boolean>;
  /** A time disables the account, null enables it; false when there is no such user. */
  setDisabled(id: string, at: number | null): Promise<boolean>;
  countEnabledAdmins(): Promise<number>;
  /** Deletes the account and, by cascade, every row it owns. */
  remove(id: string): Promise<boolean>;
}

export interface UserUsage {
  user: UserRecord;
  files: number;
  sourceBytes: number;
  outputBytes: number;
}

/** Instance-wide named values (see db/schema.ts InstanceStateTable). */
export interface InstanceStateRepo {
  get(name: string): Promise<string | undefined>;
  put(name: string, value: string, now: number): Promise<void>;
  /** Inserts unless the name exists; true for exactly one of any number of racing callers. */
  insertOnce(name: string, value: string, now: number): Promise<boolean>;
  remove(name: string): Promise<void>;
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

export interface FilePageQuery {
  status?: FileStatus;
  /** Rows older than this position (the next page), or newer than `after` (the previous one). */
  before?: FilePosition;
  after?: FilePosition;
  limit: number;
}

export interface FilesRepo {
  insert(file: FileRecord): Promise<void>;
  /** Newest first. */
  listForUser(userId: string): Promise<FileRecord[]>;
  /** One page of the user's files, newest first (ties by id), keyset-paged so rows never repeat. */
  pageForUser(userId: string, query: FilePageQuery): Promise<FileRecord[]>;
  /** Those of `ids` that are the user's. */
  findManyForUser(userId: string, ids: readonly string[]): Promise<FileRecord[]>;
  findForUser(userId: string, id: string): Promise<FileRecord | undefined>;
  /** Unscoped: for the job handler, which acts on behalf of the file's owner. */
  findById(id: string): Promise<FileRecord | undefined>;
  /** Applies the patch only if the guard still holds; tells whether a row changed. */
  update(id: string, patch: Partial<Omit<FileRecord, 'id' | 'user_id'>>, guard?: FileGuard): Promise<boolean>;
  deleteForUser(userId: string, id: string): Promise<boolean>;
  /** How many of the user's files are queued or running: their place in the fair queue. */
  countActiveForUser(userId: string): Promise<number>;
}

export interface OutputsRepo {
  listForFile(fileId: string): Promise<OutputRecord[]>;
  listForFiles(fileIds: readonly string[]): Promise<OutputRecord[]>;
  find(fileId: string, presetId: string): Promise<OutputRecord | undefined>;
  upsert(output: OutputRecord): Promise<void>;
  deleteForFile(fileId: string): Promise<void>;
}

export interface NotificationsRepo {
  /** Inserts unless a notification with the same dedupe key exists; tells whether it inserted. */
  insertOnce(notification: NotificationRecord): Promise<boolean>;
  listForUser(userId: string, opts: { unreadOnly: boolean; limit: number }): Promise<NotificationRecord[]>;
  dismiss(userId: string, id: string, now: number): Promise<NotificationRecord | undefined>;
  dismissAll(userId: string, now: number): Promise<string[]>;
}

export interface EventsRepo {
  insert(event: { userId: string; type: PushEvent['type']; data: object; createdAt: number }): Promise<number>;
  /** The user's events after `afterId`, oldest first: what a reconnecting stream missed. */
  listSince(userId: string, afterId: number, limit: number): Promise<PushEvent[]>;
  latestId(userId: string): Promise<number>;
  pruneBefore(time: number): Promise<number>;
}

export interface ResumableUploadsRepo {
  insert(upload: ResumableUploadRecord): Promise<void>;
  ownerOf(id: string): Promise<string | undefined>;
  countForUser(userId: string): Promise<number>;
  /** The user's unfinished uploads, so their bytes can go with the account. */
  idsForUser(userId: string): Promise<string[]>;
  remove(id: string): Promise<void>;
  /** Forgets uploads started before `before`; returns their ids so their bytes can go too. */
  removeOlderThan(before: number): Promise<string[]>;
}

export interface UserPresetsRepo {
  insert(preset: UserPresetRecord): Promise<void>;
  /** Oldest first: the order they were made in. */
  listForUser(userId: string): Promise<UserPresetRecord[]>;
  findForUser(userId: string, id: string): Promise<UserPresetRecord | undefined>;
  countForUser(userId: string): Promise<number>;
  /** False when the user has no preset with this id. */
  update(userId: string, id: string, patch: Pick<UserPresetRecord, 'spec' | 'updated_at'>): Promise<boolean>;
  deleteForUser(userId: string, id: string): Promise<boolean>;
}

export interface SessionsRepo {
  save(session: { sid: string; userId: string | null; data: string; expiresAt: number }): Promise<void>;
  /** The session's data, unless it is missing or expired at `now`. */
  find(sid: string, now: number): Promise<string | undefined>;
  remove(sid: string): Promise<void>;
  removeExpired(now: number): Promise<number>;
  /** Signs the user out everywhere; returns how many sessions ended. */
  removeForUser(userId: string): Promise<number>;
}

/**
 * The job queue as the domain sees it: reached through a store, so a job is always added or
 * dropped inside the same transaction as the change it belongs to (no job without its row, and
 * the reverse). Which queue backend sits behind it is the composition root's choice.
 */
export interface JobQueue {
  enqueue(job: Job, opts?: EnqueueOptions): Promise<void>;
  /** Drops a job with this key that has not started yet; a running one notices on its own. */
  removeQueued(key: string): Promise<void>;
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
  userPresets: UserPresetsRepo;
  mailSettings: MailSettingsRepo;
  mailSends: MailSendsRepo;
  instance: InstanceStateRepo;
  adminViews: AdminViewsRepo;
  retention: RetentionRepo;
  quotas: QuotasRepo;
  segmentRuns: SegmentRunsRepo;
  /** Jobs added or dropped here commit or roll back with everything else done through this store. */
  jobs: JobQueue;
  /** Runs fn in one database transaction; everything fn does through `tx` commits or none of it. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
}
