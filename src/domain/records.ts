/**
 * What the store hands the domain and takes back: decoded values (lists as arrays, flags as
 * booleans, times as epoch milliseconds). How a backend lays them out in tables is its own
 * business (src/db/repos maps rows to these and back). Field names follow the stored names, so
 * a record and its row read alike.
 */

import type { Preset } from '../media/presets.ts';
import type { LoudnessOption, LoudnessReport } from './loudness.ts';
import type { PresetSpec } from './user-presets.ts';
import type { Trim } from './trim.ts';

/** The probe's details a job needs and the columns do not hold, kept so that no job probes again. */
export interface InputDetails {
  /** Bits per decoded sample (0: the codec does not say). */
  bits: number;
  cover?: { codec: 'mjpeg' | 'png'; width: number; height: number };
}

export type FileStatus = 'queued' | 'running' | 'completed' | 'failed' | 'canceled';

export interface UserRecord {
  id: string;
  username: string;
  password_hash: string;
  created_at: number;
  is_admin: boolean;
  /** When an administrator disabled the account; null: enabled. A disabled account cannot sign in or use its tokens. */
  disabled_at: number | null;
}

export interface FileRecord {
  id: string;
  user_id: string;
  name: string;
  original_filename: string;
  input_key: string;
  input_size: number;
  input_format: string;
  input_codec: string;
  duration_ms: number;
  has_cover: boolean;
  input_sample_rate: number;
  input_channels: number;
  /** Preset ids, in the order chosen. */
  presets: string[];
  status: FileStatus;
  /** 0..100 */
  progress: number;
  error: string | null;
  /** 0..255 peak levels, drawn as the file page's waveform; null until transcoded. */
  waveform: number[] | null;
  /** The loudness normalization asked for; null: off. */
  loudness: LoudnessOption | null;
  /** What normalization measured and did, once the job completed with it. */
  loudness_report: LoudnessReport | null;
  /** The own presets among `presets`, as they were defined at upload: outlive later edits and deletion. */
  own_presets: Preset[];
  /** The part of the input every output is made from; null: all of it. */
  trim: Trim | null;
  /** What the probe saw beyond the columns above (depth, cover); null: probed before it was kept. */
  input_details: InputDetails | null;
  /**
   * The presets this generation produces when it is a later run of some outputs only (the others
   * stay as they are); null: every preset in `presets`.
   */
  run_presets: string[] | null;
  /** Bumped by every retry: one terminal notification per generation, however often a job re-runs. */
  generation: number;
  created_at: number;
  updated_at: number;
  /** When its owner was told it will be deleted (retention); null or absent: not yet. */
  expiry_warned_at?: number | null;
}

export interface OutputRecord {
  file_id: string;
  preset_id: string;
  blob_key: string;
  size: number;
  duration_ms: number;
  bit_rate: number;
  created_at: number;
}

/** 'expiring': the file will be deleted in about a day (retention). */
export type NotificationKind = 'completed' | 'failed' | 'expiring';

export interface NotificationRecord {
  id: string;
  user_id: string;
  file_id: string | null;
  kind: NotificationKind;
  message: string;
  /** A re-run job that reaches the same end again cannot notify twice. */
  dedupe_key: string;
  created_at: number;
  dismissed_at: number | null;
}

export interface WebhookEndpointRecord {
  id: string;
  user_id: string;
  url: string;
  description: string;
  /** Event types it subscribes to; empty means all. */
  events: string[];
  /** whsec_… (needed in clear to sign; shown to its owner only when created or rotated). */
  secret: string;
  enabled: boolean;
  disabled_reason: string | null;
  created_at: number;
  updated_at: number;
}

export type DeliveryState = 'pending' | 'succeeded' | 'failed';

export interface WebhookDeliveryRecord {
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

/** An unfinished resumable (tus) upload and who started it. */
export interface ResumableUploadRecord {
  id: string;
  user_id: string;
  size: number | null;
  created_at: number;
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

/** A preset of one's own: what its owner asked for. */
export interface UserPresetRecord {
  id: string;
  user_id: string;
  spec: PresetSpec;
  created_at: number;
  updated_at: number;
}

/** A user's choice of mail, decoded. */
export interface MailSettings {
  email: string | null;
  onJobEnd: boolean;
}

export type MailSendState = 'pending' | 'sent' | 'failed';

/** One notification to be mailed: pending until sent once, or given up with the reason. */
export interface MailSendRecord {
  notification_id: string;
  user_id: string;
  to_address: string;
  /** Fixed when the job ended, so every attempt sends the same mail. */
  subject: string;
  body: string;
  state: MailSendState;
  attempts: number;
  last_error: string | null;
  sent_at: number | null;
  created_at: number;
  updated_at: number;
}

/** A place in the newest-first order: the row just past it is the next one shown. */
export interface FilePosition {
  createdAt: number;
  id: string;
}
