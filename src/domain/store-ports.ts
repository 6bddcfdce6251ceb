/**
 * The Store seam: one repository per kind of record, all bound to one database handle or one
 * open transaction. Repositories speak in decoded records (./records.ts), never in rows.
 */
import type { EnqueueOptions, Job } from '../jobs/definitions.ts';
import type { PushEvent } from './push-ports.ts';
import type { SegmentedPlan } from './segmented/plan.ts';
import type {
  ApiToken,
  FileRecord,
  FileStatus,
  MailSendRecord,
  MailSettings,
  NotificationRecord,
  OutputRecord,
  ResumableUploadRecord,
  UserPresetRecord,
  UserRecord,
  WebhookDeliveryRecord,
  WebhookEndpointRecord,
} from './records.ts';

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

/** A file whose job is queued or running, or that failed, with its owner's name: what an administrator sees. */
export interface AdminFileRow {
  file: FileRecord;
  username: string;
}

/** A worker pool's last heartbeat. */
export interface WorkerBeat {
  id: string;
  host: string;
  pid: number;
  lastSeen: number;
  version: string;
}

/** Reads across every user, for the admin area only. */
export interface AdminViewsRepo {
  /** Queued and running files, oldest first. */
  activeFiles(limit: number): Promise<AdminFileRow[]>;
  /** Failed files, most recently failed first. */
  recentFailures(limit: number): Promise<AdminFileRow[]>;
  /** Worker pools heard from since `since`, most recent first. */
  workers(since: number): Promise<WorkerBeat[]>;
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

/** A place in the newest-first order: the row just past it is the next one shown. */
export interface FilePosition {
  createdAt: number;
  id: string;
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

export interface MailSettingsRepo {
  /** The user's choice; a user who never chose has no address and no opt-in. */
  get(userId: string): Promise<MailSettings>;
  put(userId: string, settings: MailSettings, now: number): Promise<void>;
}

export interface MailSendsRepo {
  /** False when this notification already has its row (a re-run cannot queue a second mail). */
  insertOnce(send: MailSendRecord): Promise<boolean>;
  find(notificationId: string): Promise<MailSendRecord | undefined>;
  /** Applies the patch only while the row is still pending; tells whether it did. */
  updatePending(notificationId: string, patch: Partial<Omit<MailSendRecord, 'notification_id' | 'user_id'>>): Promise<boolean>;
}

/** A file as the retention sweep needs it. */
export interface RetentionCandidate {
  id: string;
  user_id: string;
  name: string;
  status: FileStatus;
  created_at: number;
  expiry_warned_at: number | null;
}

/** Owners' retention choices, and the files their age may have made due (see domain/retention.ts). */
export interface RetentionRepo {
  /** The user's own choice of days; null: the instance's setting. */
  choiceOf(userId: string): Promise<number | null>;
  setChoice(userId: string, days: number | null): Promise<void>;
  /** Every user who made a choice of their own. */
  choices(): Promise<{ userId: string; days: number }[]>;
  /**
   * Files created at or before `before`, oldest first (ties by id), after the position `after`:
   * of one user, or (`userId` absent) of every user who made no choice of their own.
   */
  candidates(query: { before: number; userId?: string; after?: FilePosition; limit: number }): Promise<RetentionCandidate[]>;
  markWarned(fileId: string, at: number): Promise<void>;
  /** Deletes the file unless a job is queued or running for it; tells whether it did. */
  deleteIfIdle(fileId: string): Promise<boolean>;
}

/** Per-user overrides of the quota settings; null: the setting's default. */
export interface QuotaOverrides {
  quotaBytes: number | null;
  queuedJobs: number | null;
  filesPerDay: number | null;
  maxUploadBytes: number | null;
  maxInputSeconds: number | null;
  maxOutputBytes: number | null;
}

export interface QuotasRepo {
  /** All null when the user has no overrides. */
  overridesOf(userId: string): Promise<QuotaOverrides>;
  /** Replaces the user's overrides (all null forgets them). */
  setOverrides(userId: string, overrides: QuotaOverrides, now: number): Promise<void>;
  /** Bytes of the user's sources and outputs, from the sizes recorded with them. */
  storedBytes(userId: string): Promise<number>;
  /** Unsettled reservations that have not expired at `now`: their count and bytes. */
  openReservations(userId: string, now: number): Promise<{ count: number; bytes: number }>;
  /** Reservations made since `since`, settled or not (refused uploads leave none): the day's uploads. */
  uploadsSince(userId: string, since: number): Promise<number>;
  /** Holds the user's row until the transaction ends, so two admissions of one user run one after the other. */
  lockUser(userId: string): Promise<void>;
  reserve(reservation: { id: string; userId: string; bytes: number; createdAt: number; expiresAt: number }): Promise<void>;
  /** The reservation's bytes while it is open; undefined once settled, released or never made. */
  openBytes(id: string): Promise<number | undefined>;
  /** The upload became a file: its bytes now count there. */
  settle(id: string): Promise<void>;
  /** The upload was refused or abandoned: forget it (a settled reservation stays). */
  release(id: string): Promise<void>;
  /** Forgets reservations made before `before` (past the day they count for). */
  pruneBefore(before: number): Promise<number>;
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

/** A segmented transcode's bookkeeping (issue 12): its plan and its parts' progress. */
export interface SegmentRunsRepo {
  /** Records the plan and one part row per planned part, none done. */
  create(run: { fileId: string; generation: number; plan: SegmentedPlan; createdAt: number }): Promise<void>;
  find(fileId: string, generation: number): Promise<{ plan: SegmentedPlan; createdAt: number } | undefined>;
  setPartProgress(fileId: string, generation: number, part: number, progress: number): Promise<void>;
  /** Progress (0..100) of each part, by part number. */
  partProgress(fileId: string, generation: number): Promise<Map<number, number>>;
  /**
   * Marks the part done and counts it off, in the caller's transaction. 'last' for exactly one
   * part of a run however they interleave (the count is one row, updated under its row lock);
   * 'gone' when the part was already done or the run no longer exists.
   */
  finishPart(fileId: string, generation: number, part: number): Promise<'last' | 'more' | 'gone'>;
  /** Raises a running file's progress, never lowers it (parts report in any order). */
  raiseFileProgress(fileId: string, generation: number, progress: number): Promise<void>;
  /** Forgets the file's runs: one generation, or all of them. */
  remove(fileId: string, generation?: number): Promise<void>;
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
