import type { Generated, Selectable } from 'kysely';
import type { DeliveryState, FileStatus, MailSendRecord, NotificationKind } from '../domain/records.ts';

/** Times are epoch milliseconds: one representation that SQLite and PostgreSQL both store exactly. */
export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  created_at: number;
  /** Days this user keeps files (at most RETENTION_DAYS when that is set); null: the instance's setting. */
  retention_days: number | null;
  /** 1: an administrator (see docs/decisions/0022-administrators.md); 0: not. */
  is_admin: Generated<number>;
  /** When an administrator disabled the account; null: enabled. */
  disabled_at: number | null;
}

/** Instance-wide state every process reads: `queue_paused`, `first_account`. */
export interface InstanceStateTable {
  name: string;
  value: string;
  updated_at: number;
}

/** A worker pool's heartbeat: graphile-worker pools and embedded pools alike. */
export interface WorkerHeartbeatsTable {
  pool_id: string;
  host: string;
  pid: number;
  last_seen: number;
  version: Generated<string>;
  /** Encode slots this pool brings (0: it takes no owned jobs); their sum sizes the per-user cap. */
  slots: Generated<number>;
}

export interface SessionsTable {
  sid: string;
  user_id: string | null;
  data: string;
  expires_at: number;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  /** SHA-256 of the token, hex: the token itself is shown once and never stored. */
  token_hash: string;
  /** What its owner called it; tokens from before names existed are 'API token'. */
  name: string;
  /** The token's first characters, to recognise it in a list; '' for tokens from before prefixes. */
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  /** Past this instant the token answers 401; null: never expires. */
  expires_at: number | null;
  /** 1: the token may only read (GET/HEAD); 0: full access. */
  read_only: number;
}

export interface FilesTable {
  id: string;
  user_id: string;
  name: string;
  original_filename: string;
  input_key: string;
  input_size: number;
  input_format: string;
  input_codec: string;
  duration_ms: number;
  /** 1: the input carries cover art; 0: it does not. */
  has_cover: number;
  input_sample_rate: number;
  input_channels: number;
  presets: string; // JSON array of preset ids, in the order chosen
  status: FileStatus;
  progress: number; // 0..100
  error: string | null;
  /** JSON array of 0..255 peak levels, drawn as the file page's waveform. */
  waveform: string | null;
  /** JSON of the loudness normalization asked for (mode and target); null: off. */
  loudness: string | null;
  /** JSON of what the job measured and did (before, after, method); null until it has. */
  loudness_report: string | null;
  /** JSON array of the own presets' definitions chosen, as they were at upload; null: none. */
  own_presets: string | null;
  /** JSON {start, end} in seconds: the part of the input every output is made from; null: all. */
  trim: string | null;
  /** JSON: the probe's bit depth and cover (InputDetails); null for files probed before 0018. */
  input_details: string | null;
  /** JSON array of the presets this generation produces (a later run of some outputs); null: all. */
  run_presets: string | null;
  /** Bumped by every retry: one terminal notification per generation, however often a job re-runs. */
  generation: number;
  created_at: number;
  updated_at: number;
  /** When its owner was told the file will be deleted (retention); null: not yet. */
  expiry_warned_at: number | null;
}

export interface OutputsTable {
  file_id: string;
  preset_id: string;
  blob_key: string;
  size: number;
  duration_ms: number;
  bit_rate: number;
  created_at: number;
}

export type JobState = 'queued' | 'running';

export interface JobsTable {
  id: Generated<number>;
  /** A job name from src/jobs/definitions.ts. */
  name: string;
  /** The job's payload as JSON, validated when the job is taken. */
  payload: string;
  /** A queued job with the same key is replaced instead of added. */
  key: string | null;
  state: JobState;
  attempts: number;
  locked_by: string | null;
  heartbeat_at: number | null;
  run_at: number;
  created_at: number;
  /** Lower runs first: see EnqueueOptions.priority. */
  priority: Generated<number>;
  /** The user whose work this is (null: nobody's, e.g. a webhook delivery): see EnqueueOptions.owner. */
  user_id: Generated<string | null>;
}

export interface NotificationsTable {
  id: string;
  user_id: string;
  file_id: string | null;
  kind: NotificationKind;
  message: string;
  /** Unique: a re-run job that reaches the same end again cannot notify twice. */
  dedupe_key: string;
  created_at: number;
  dismissed_at: number | null;
}

export interface EventsTable {
  id: Generated<number>;
  user_id: string;
  type: string;
  data: string;
  created_at: number;
}

export interface Database {
  events: EventsTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  files: FilesTable;
  outputs: OutputsTable;
  jobs: JobsTable;
  notifications: NotificationsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  resumable_uploads: ResumableUploadsTable;
  user_presets: UserPresetsTable;
  segment_runs: SegmentRunsTable;
  segment_parts: SegmentPartsTable;
  mail_settings: MailSettingsTable;
  mail_sends: MailSendsTable;
  instance_state: InstanceStateTable;
  worker_heartbeats: WorkerHeartbeatsTable;
  user_quotas: UserQuotasTable;
  upload_reservations: UploadReservationsTable;
}

/** Per-user overrides of the quota settings; null: the setting's default. */
export interface UserQuotasTable {
  user_id: string;
  quota_bytes: number | null;
  queued_jobs: number | null;
  files_per_day: number | null;
  max_upload_bytes: number | null;
  max_input_seconds: number | null;
  max_output_bytes: number | null;
  updated_at: number;
}

/** An upload's declared bytes held against its owner's quota until its file row exists. */
export interface UploadReservationsTable {
  id: string;
  user_id: string;
  bytes: number;
  /** 1: the upload became a file (its bytes count there); the row stays as the day's tally. */
  settled: Generated<number>;
  created_at: number;
  expires_at: number;
}

/** A file generation transcoded in parts (issue 12). */
export interface SegmentRunsTable {
  file_id: string;
  generation: number;
  /** JSON of domain/segmented/plan.ts SegmentedPlan. */
  plan: string;
  /** Parts not yet done; the part that brings it to 0 enqueues the join. */
  remaining: number;
  created_at: number;
}

export interface SegmentPartsTable {
  file_id: string;
  generation: number;
  part: number;
  /** 0..100 */
  progress: number;
  /** 0 or 1 (an integer on both databases). */
  done: number;
}

export interface UserPresetsTable {
  /** u-<uuid>: never a built-in id. */
  id: string;
  user_id: string;
  /** JSON of what the user asked for (see domain/user-presets.ts PresetSpec). */
  spec: string;
  created_at: number;
  updated_at: number;
}

export interface ResumableUploadsTable {
  /** The tus upload id. */
  id: string;
  user_id: string;
  size: number | null;
  created_at: number;
}

export interface WebhookEndpointsTable {
  id: string;
  user_id: string;
  url: string;
  description: string;
  /** JSON array of event types; empty means all. */
  events: string;
  /** whsec_… (needed in clear to sign; shown to its owner only when created or rotated). */
  secret: string;
  /** 1: deliveries go out; 0: turned off (by its owner, or after failing for too long). */
  enabled: number;
  disabled_reason: string | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookDeliveriesTable {
  /** The webhook-id header: the same on every attempt, the receiver's idempotency key. */
  id: string;
  endpoint_id: string;
  user_id: string;
  event_type: string;
  /** The exact JSON body, fixed when the event happened, so every attempt sends the same bytes. */
  body: string;
  state: DeliveryState;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
}

export type FileRow = Selectable<FilesTable>;
export type JobRow = Selectable<JobsTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;

export interface MailSettingsTable {
  user_id: string;
  email: string | null;
  /** 1: mail the user when one of their jobs ends. */
  on_job_end: number;
  updated_at: number;
}

/** One row per notification: the marker that it is mailed at most once; the row is the record as is. */
export type MailSendsTable = MailSendRecord;
