/**
 * The seams between domain code and the outside world. Domain functions receive these as `deps`
 * and never import a database driver, a web framework or child_process themselves; every type a
 * seam speaks in is defined on this side (./records.ts, ./store-ports.ts, ./push-ports.ts) or by
 * the seam's own types file (media), and re-exported here.
 */
import type { Readable } from 'node:stream';
import type { Config } from '../config.ts';
import type { JobPayload } from '../jobs/definitions.ts';
import type { Logger } from '../log.ts';
import type { Media } from '../media/types.ts';
import type { Metrics } from './metrics-port.ts';
import type { PushHub } from './push-ports.ts';
import type { Store } from './store-ports.ts';

export type * from './records.ts';
export type * from './store-ports.ts';
export type * from './store-ports-admin.ts';
export type * from './store-ports-mail.ts';
export type * from './store-ports-quotas.ts';
export type * from './store-ports-retention.ts';
export type * from './store-ports-segments.ts';
export type * from './store-ports-webhooks.ts';
export type * from './push-ports.ts';
export type { Media } from '../media/types.ts';

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
  /**
   * Publishes a copy of one object under another key, without passing its bytes through this
   * process where the store can avoid it (a hard link on disk, a server-side copy on S3).
   * The source stays. Returns the copy's size; rejects when the source is missing.
   */
  copy(fromKey: string, toKey: string): Promise<number>;
  stat(key: string): Promise<BlobStat | undefined>;
  /** Streams the object, or the inclusive byte range of it. */
  get(key: string, range?: { start: number; end: number }): Promise<Readable>;
  /** A local path to read the object from, and a release function to call when done. */
  openLocal(key: string, scratchDir: string): Promise<{ path: string; release(): Promise<void> }>;
  deletePrefix(prefix: string): Promise<void>;
  /**
   * A URL from which a reader outside this process (ffmpeg) may GET the object, ranges included,
   * for `seconds`: a presigned request on S3 (decision 0031). Absent where objects are local files.
   */
  readUrl?(key: string, seconds: number): Promise<string>;
}

export type TranscodeJob = JobPayload<'transcode'>;

export interface WebhookSendResult {
  status: number;
  retryAfterSeconds?: number;
  durationMs: number;
}

/** Sends one signed webhook request; rejects on a refused address, a network error or a timeout. */
export interface WebhookSender {
  send(request: { url: string; headers: Record<string, string>; body: string; timeoutMs: number }): Promise<WebhookSendResult>;
}

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  /** Stable per notification: receivers can drop a repeat. */
  messageId: string;
}

/** What one attempt at sending came to; `permanent` is the server refusing for good (5xx). */
export type MailResult = { ok: true } | { ok: false; permanent: boolean; reason: string };

/** Sends mail from the configured sender (MAIL_FROM) through the configured server (SMTP_URL). */
export interface Mailer {
  send(mail: OutgoingMail): Promise<MailResult>;
}

/** What the admin area asks of whichever queue backend runs. */
export interface QueueAdmin {
  /** Which worker holds each running job, by job key. */
  holders(): Promise<Map<string, string>>;
  /** Wakes idle workers after a resume, so they need not wait for their next poll. */
  wake(): Promise<void>;
}

/** Password hashing: slow on purpose, so it is a seam that tests may swap for a fast one. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}

export interface Deps {
  config: Config;
  /** Also the way to the job queue: `tx.jobs` inside a transaction. */
  store: Store;
  blobs: BlobStore;
  media: Media;
  push: PushHub;
  webhookSender: WebhookSender;
  /** Absent without SMTP_URL: then nothing is mailed. */
  mailer: Mailer | undefined;
  log: Logger;
  /** What an operator's metrics record (a no-op without METRICS_TOKEN). */
  metrics: Metrics;
  now(): number;
  newId(): string;
}
