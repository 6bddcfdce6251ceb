/**
 * The admin user page's limits form: what each field means, how a typed value reads ("5 GB",
 * "1:30:00"), and how a stored limit is written back into its field so that saving the form
 * unchanged changes nothing. An empty field means "the setting's default". Pure: no I/O.
 */
import type { QuotaOverrides, UserLimits } from '../domain/quotas.ts';
import { formatBytes, formatClock } from '../format.ts';

export type LimitKey = keyof QuotaOverrides;
type Kind = 'size' | 'count' | 'seconds';

export interface LimitField {
  key: LimitKey;
  label: string;
  kind: Kind;
  /** The setting that gives the default. */
  setting: string;
}

export const limitFields: readonly LimitField[] = [
  { key: 'quotaBytes', label: 'Storage', kind: 'size', setting: 'QUOTA_BYTES' },
  { key: 'queuedJobs', label: 'Files waiting or transcoding at once', kind: 'count', setting: 'QUOTA_QUEUED_JOBS' },
  { key: 'filesPerDay', label: 'Uploads per UTC day', kind: 'count', setting: 'QUOTA_FILES_PER_DAY' },
  { key: 'maxUploadBytes', label: 'Largest upload', kind: 'size', setting: 'MAX_UPLOAD_BYTES' },
  { key: 'maxInputSeconds', label: 'Longest input', kind: 'seconds', setting: 'MAX_INPUT_SECONDS' },
  { key: 'maxOutputBytes', label: 'Outputs of one file', kind: 'size', setting: 'MAX_OUTPUT_BYTES' },
];

// 1024-based like every size Reprise shows (formatBytes): "GB" and "GiB" are the same here.
const sizeUnits: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const timeUnits: Record<string, number> = { s: 1, sec: 1, second: 1, m: 60, min: 60, minute: 60, h: 3600, hour: 3600 };

// Said when a value cannot be read, after the field's name.
const hints: Record<Kind, string> = {
  size: 'a size such as 5 GB, 500 MB or 1.5 TB (a number alone is MB)',
  count: 'a whole number of at least 1',
  seconds: 'a length such as 1:30:00, 90 min, 4 h or a number of seconds',
};


function parseSize(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(?:([bkmgt])(?:i?b)?)?$/i.exec(raw);
  if (!m?.[1]) return NaN;
  // A bare number is MB: whole bytes are never what an administrator means.
  return Math.round(Number(m[1]) * (sizeUnits[m[2]?.toLowerCase() ?? 'm'] ?? NaN));
}

function parseSeconds(raw: string): number {
  const clock = /^(\d+):([0-5]\d):([0-5]\d)$/.exec(raw);
  if (clock) return Number(clock[1]) * 3600 + Number(clock[2]) * 60 + Number(clock[3]);
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*?)s?$/i.exec(raw);
  if (!m?.[1]) return NaN;
  return Math.round(Number(m[1]) * (timeUnits[m[2]?.toLowerCase() || 's'] ?? NaN));
}

/** One field's text → a limit (null: the default), or the sentence saying what is wrong. */
export function parseLimitField(field: LimitField, text: string): { value: number | null } | { error: string } {
  const raw = text.trim();
  if (raw === '' || raw.toLowerCase() === 'default') return { value: null };
  const value = field.kind === 'size' ? parseSize(raw) : field.kind === 'seconds' ? parseSeconds(raw) : /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (Number.isNaN(value)) return { error: `${field.label}: “${raw}” is not ${hints[field.kind]}. Leave it empty for the default.` };
  if (!Number.isSafeInteger(value)) return { error: `${field.label}: “${raw}” is too large.` };
  if (value < 1) return { error: `${field.label} must be at least ${field.kind === 'size' ? '1 byte' : field.kind === 'seconds' ? '1 second' : '1'}; to stop an account, disable it instead.` };
  return { value };
}

export interface LimitFormResult {
  patch: Record<LimitKey, number | null>;
  /** Per field, what is wrong with it; empty when the whole form may be saved. */
  errors: Partial<Record<LimitKey, string>>;
}

/** Reads the whole form: every field is set or cleared, and nothing is saved if any is wrong. */
export function readLimitForm(body: unknown): LimitFormResult {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const patch = {} as Record<LimitKey, number | null>;
  const errors: Partial<Record<LimitKey, string>> = {};
  for (const field of limitFields) {
    const text = fields[field.key];
    const parsed = parseLimitField(field, typeof text === 'string' ? text : '');
    if ('error' in parsed) errors[field.key] = parsed.error;
    else patch[field.key] = parsed.value;
  }
  return { patch, errors };
}

/** An exact, re-readable text for a stored limit: "5 GB", "1536 MB", "1000 B", "4:00:00", "12". */
export function limitText(field: LimitField, value: number | null): string {
  if (value === null) return '';
  if (field.kind === 'count') return String(value);
  if (field.kind === 'seconds') return formatClock(value);
  for (const [unit, name] of [[1024 ** 4, 'TB'], [1024 ** 3, 'GB'], [1024 ** 2, 'MB'], [1024, 'KB']] as const) {
    if (value % unit === 0) return `${value / unit} ${name}`;
  }
  return `${value} B`;
}

/** How a limit in force reads next to its field ("2.0 GB", "unlimited", "4:00:00"). */
export function limitInForce(field: LimitField, limits: UserLimits): string {
  const value = limits[field.key];
  if (value === null) return 'unlimited';
  return field.kind === 'size' ? formatBytes(value) : field.kind === 'seconds' ? formatClock(value) : String(value);
}
