import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * TRUST_PROXY names what sits in front: a hop count ("1") or the proxies' addresses/CIDRs
 * ("10.0.0.1, 172.16.0.0/12"). "true" (trust every hop) is refused: it lets any client pick its
 * own address by sending X-Forwarded-For, which walks around every per-address limit.
 */
const trustProxy = z.string().transform((raw, ctx): false | number | string[] => {
  const v = raw.trim().toLowerCase();
  if (['false', 'no', '0'].includes(v)) return false;
  if (['true', 'yes'].includes(v)) {
    ctx.addIssue({ code: 'custom', message: 'give the number of proxies in front (e.g. 1) or their addresses/CIDRs, not "true" (that trusts any client\'s X-Forwarded-For)' });
    return z.NEVER;
  }
  if (/^\d{1,2}$/.test(v)) return Number(v);
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.find((entry) => {
    const [addr = '', bits, ...rest] = entry.split('/');
    const family = isIP(addr);
    if (family === 0 || rest.length > 0) return true;
    if (bits === undefined) return false;
    return !/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128);
  });
  if (bad !== undefined || list.length === 0) {
    ctx.addIssue({ code: 'custom', message: `not a hop count or an address/CIDR list${bad ? ` ("${bad}")` : ''}` });
    return z.NEVER;
  }
  return list;
});

/** An address, or a display name and an address in angle brackets; no control characters anywhere. */
const mailAddress = String.raw`[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+\.[^\s@<>()",;:\\[\]]+`;
const mailFromPattern = new RegExp(`^(${mailAddress}|[^\\x00-\\x1f\\x7f<>]{1,100} <${mailAddress}>)$`);

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(2 * 1024 ** 3),
  WORKER_CONCURRENCY: z.coerce.number().int().min(0).max(64).default(os.availableParallelism()),
  USER_MAX_RUNNING: z.coerce.number().int().min(0).max(4096).default(0),
  SIGNUP_OPEN: boolish.default(true),
  SESSION_SECRET: z.string().min(32, 'SESSION_SECRET must be at least 32 characters').optional(),
  SESSION_TTL_HOURS: z.coerce.number().positive().default(24 * 14),
  LOGIN_RATE_LIMIT: z.coerce.number().int().positive().default(10),
  SIGNUP_RATE_LIMIT: z.coerce.number().int().positive().default(10),
  API_RATE_LIMIT: z.coerce.number().int().min(0).default(1200),
  UPLOAD_IDLE_SECONDS: z.coerce.number().positive().max(3600).default(60),
  HEADERS_TIMEOUT_SECONDS: z.coerce.number().positive().max(300).default(20),
  MAX_INPUT_SECONDS: z.coerce.number().positive().default(4 * 3600),
  MAX_OUTPUT_BYTES: z.coerce.number().int().positive().default(8 * 1024 ** 3),
  QUOTA_BYTES: z.coerce.number().int().positive().optional(),
  QUOTA_QUEUED_JOBS: z.coerce.number().int().positive().optional(),
  QUOTA_FILES_PER_DAY: z.coerce.number().int().positive().optional(),
  EVENT_STREAMS_PER_USER: z.coerce.number().int().positive().max(1000).default(8),
  EVENT_HEARTBEAT_SECONDS: z.coerce.number().positive().max(110).default(20),
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .regex(/^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$/, 'must be comma-separated seconds between attempts, e.g. 5,300,1800')
    .default('5,300,1800,7200,18000,36000,36000'),
  WEBHOOK_ALLOW_PRIVATE: boolish.default(false),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(0).max(256).default(8),
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().positive().max(300).default(15),
  STALL_TIMEOUT_SECONDS: z.coerce.number().positive().default(60),
  SEGMENT_MIN_SECONDS: z.coerce.number().int().min(0).max(86_400).refine((n) => n === 0 || n >= 4, 'must be 0 (off) or at least 4 seconds').default(300),
  FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
  FFPROBE_PATH: z.string().min(1).default('ffprobe'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: trustProxy.default(false),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  S3_BUCKET: z.string().min(3).optional(),
  S3_ENDPOINT: z.url().optional(),
  S3_FORCE_PATH_STYLE: boolish.default(false),
  S3_PRESIGNED_READS: boolish.default(true),
  AWS_REGION: z.string().min(1).optional(),
  SMTP_URL: z.string().regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example:587').optional(),
  MAIL_FROM: z.string().max(300).regex(mailFromPattern, 'must be an address, or a name and an address: Reprise <reprise@example.com>').optional(),
  MAIL_RETRY_SCHEDULE: z
    .string()
    .regex(/^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$/, 'must be comma-separated seconds between attempts, e.g. 30,300,1800')
    .default('30,120,600,1800,7200'),
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be the http(s) address people open Reprise at, e.g. https://reprise.example' }).optional(),
  RETENTION_DAYS: z.coerce.number().int('must be a whole number of days').min(1).max(36500).optional(),
  METRICS_TOKEN: z.string().regex(/^[\x21-\x7e]{16,200}$/, 'must be 16 to 200 printable characters without spaces (e.g. openssl rand -hex 32)').optional(),
});

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly maxUploadBytes: number;
  readonly workerConcurrency: number;
  /** Jobs one user runs at once while others wait (0: half the live slots, at least 1); decision 0024. */
  readonly userMaxRunning: number;
  readonly signupOpen: boolean;
  readonly sessionSecret: string | undefined;
  readonly sessionTtlMs: number;
  /** Login attempts per minute per client address (form and token route together). */
  readonly loginRateLimit: number;
  /** Accounts created per hour per client address. */
  readonly signupRateLimit: number;
  /** API requests a minute per token (per account for a browser session); 0: no limit. */
  readonly apiRateLimit: number;
  /** An upload receiving (almost) nothing for this long is cut and its bytes removed. */
  readonly uploadIdleMs: number;
  /** How long a client may take to send a request's headers (slow-header clients are cut). */
  readonly headersTimeoutMs: number;
  /** Event streams send a heartbeat this often, and re-check their credentials with it. */
  readonly eventHeartbeatMs: number;
  /** Longest input accepted, from the probe. */
  readonly maxInputSeconds: number;
  /** Most bytes one job's outputs may take together. */
  readonly maxOutputBytes: number;
  /** Open event streams per user in one web process. */
  readonly eventStreamsPerUser: number;
  /** Per-user defaults (an administrator may override them per user); absent: unlimited. */
  readonly quotas: {
    /** Bytes of sources and outputs one user may keep. */
    bytes: number | undefined;
    /** Files one user may have waiting or transcoding at once. */
    queuedJobs: number | undefined;
    /** Uploads one user may start per UTC day. */
    filesPerDay: number | undefined;
  };
  readonly webhooks: {
    /** Delays between attempts (ms); its length is the number of retries after the first try. */
    retryScheduleMs: readonly number[];
    /** Lets endpoints resolve to loopback/private addresses (on-premises receivers). */
    allowPrivate: boolean;
    /** Deliveries in flight at once per process, apart from the transcode slots. */
    concurrency: number;
    timeoutMs: number;
  };
  readonly stallTimeoutMs: number;
  /** Inputs longer than this are encoded in segments, as jobs of their own (0: never). */
  readonly segmentMinSeconds: number;
  readonly ffmpegPath: string;
  readonly ffprobePath: string;
  readonly logLevel: string;
  /** false, a hop count, or the proxies' addresses/CIDRs (never "everything"). */
  readonly trustProxy: false | number | string[];
  /** PostgreSQL for data, queue and push; absent: SQLite under dataDir. */
  readonly databaseUrl: string | undefined;
  /** S3-compatible storage for blobs; absent: a folder under dataDir. */
  /** `presignedReads`: ffmpeg may fetch a segment's byte range from a presigned URL (decision 0031). */
  readonly s3: { bucket: string; endpoint?: string; forcePathStyle: boolean; region?: string; presignedReads: boolean } | undefined;
  /** Mail when a job ends (users opt in); absent without SMTP_URL: nothing is sent. */
  readonly mail: { smtpUrl: string; from: string; retryScheduleMs: readonly number[] } | undefined;
  /** Where people open Reprise (links in mail); no trailing slash. */
  readonly publicUrl: string | undefined;
  /** Bearer token that GET /metrics requires; absent: no metrics are kept and /metrics is 404. */
  readonly metricsToken: string | undefined;
  /** Files (source and outputs) older than this many days are deleted; absent: kept unless their owner chose a limit. */
  readonly retentionDays: number | undefined;
}

export class ConfigError extends Error {}

/** Reads the environment into a validated, frozen Config; a bad value names its variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset" so that `FOO= npm start` behaves like leaving FOO out.
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key in schema.shape && value !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path.join('.') ?? 'configuration';
    throw new ConfigError(`invalid ${name}: ${issue?.message ?? 'bad value'}`);
  }
  const e = parsed.data;
  // A mail needs a sender, and a link in it needs an address people can open.
  if (e.SMTP_URL && !e.MAIL_FROM) throw new ConfigError('invalid MAIL_FROM: required when SMTP_URL is set (e.g. Reprise <reprise@example.com>)');
  if (e.SMTP_URL && !e.PUBLIC_URL) throw new ConfigError('invalid PUBLIC_URL: required when SMTP_URL is set, for the links in mail (e.g. https://reprise.example)');
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.DATA_DIR),
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    workerConcurrency: e.WORKER_CONCURRENCY,
    userMaxRunning: e.USER_MAX_RUNNING,
    signupOpen: e.SIGNUP_OPEN,
    sessionSecret: e.SESSION_SECRET,
    sessionTtlMs: e.SESSION_TTL_HOURS * 3600_000,
    loginRateLimit: e.LOGIN_RATE_LIMIT,
    signupRateLimit: e.SIGNUP_RATE_LIMIT,
    apiRateLimit: e.API_RATE_LIMIT,
    uploadIdleMs: e.UPLOAD_IDLE_SECONDS * 1000,
    headersTimeoutMs: e.HEADERS_TIMEOUT_SECONDS * 1000,
    eventHeartbeatMs: e.EVENT_HEARTBEAT_SECONDS * 1000,
    maxInputSeconds: e.MAX_INPUT_SECONDS,
    maxOutputBytes: e.MAX_OUTPUT_BYTES,
    eventStreamsPerUser: e.EVENT_STREAMS_PER_USER,
    quotas: Object.freeze({ bytes: e.QUOTA_BYTES, queuedJobs: e.QUOTA_QUEUED_JOBS, filesPerDay: e.QUOTA_FILES_PER_DAY }),
    webhooks: {
      retryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE.split(',').map((v) => Math.round(Number(v) * 1000)),
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
      concurrency: e.WEBHOOK_CONCURRENCY,
      timeoutMs: e.WEBHOOK_TIMEOUT_SECONDS * 1000,
    },
    stallTimeoutMs: e.STALL_TIMEOUT_SECONDS * 1000,
    segmentMinSeconds: e.SEGMENT_MIN_SECONDS,
    ffmpegPath: e.FFMPEG_PATH,
    ffprobePath: e.FFPROBE_PATH,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    databaseUrl: e.DATABASE_URL,
    s3: e.S3_BUCKET
      ? { bucket: e.S3_BUCKET, endpoint: e.S3_ENDPOINT, forcePathStyle: e.S3_FORCE_PATH_STYLE, region: e.AWS_REGION, presignedReads: e.S3_PRESIGNED_READS }
      : undefined,
    mail: e.SMTP_URL && e.MAIL_FROM
      ? { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM, retryScheduleMs: e.MAIL_RETRY_SCHEDULE.split(',').map((v) => Math.round(Number(v) * 1000)) }
      : undefined,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    metricsToken: e.METRICS_TOKEN,
    retentionDays: e.RETENTION_DAYS,
  });
}
