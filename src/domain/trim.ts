import { AppError } from '../errors.ts';

/**
 * The part of the input every output is made from, in seconds from the start of the decoded
 * audio. `end` null: to the end. Kept as the numbers given, so that the sample they fall on is
 * computed once per input rate (trimSamples) rather than through a rounded millisecond value.
 */
export interface Trim {
  start: number;
  end: number | null;
}

/** The upload fields, by their names in forms, tus metadata and the API. */
export type TrimFields = Partial<Record<'start' | 'end', unknown>>;

export const pickTrimFields = (read: (name: string) => unknown): TrimFields => ({ start: read('start'), end: read('end') });

/** Longer than any input MAX_INPUT_SECONDS can admit; only here to keep numbers sane. */
const MAX_SECONDS = 7 * 24 * 3600;

const invalid = (field: 'start' | 'end', detail: string) => new AppError('invalid_trim', 422, detail, { field });
const given = (v: unknown) => v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '');

function seconds(field: 'start' | 'end', raw: unknown): number {
  const text = String(raw).trim();
  // Plain decimal seconds only: no exponents, hex, "1:30" or "Infinity".
  if (!/^\d{1,7}(\.\d{1,9})?$/.test(text)) throw invalid(field, `${field} must be a number of seconds (decimals allowed, e.g. 12.5); got "${text.slice(0, 40)}".`);
  const value = Number(text);
  if (value > MAX_SECONDS) throw invalid(field, `${field} must be at most ${MAX_SECONDS} seconds.`);
  return value;
}

/** Reads `start` and `end`; null when neither trims anything. A bad value is a 422 naming its field. */
export function parseTrim(raw: TrimFields): Trim | null {
  const start = given(raw.start) ? seconds('start', raw.start) : 0;
  const end = given(raw.end) ? seconds('end', raw.end) : null;
  if (end !== null && end <= start) throw invalid('end', `end (${end} s) must be after start (${start} s).`);
  if (start === 0 && end === null) return null;
  return { start, end };
}

/** Why the trim does not fit a recording of this length, or undefined when it does. */
export function trimBeyond(trim: Trim | null, durationMs: number): string | undefined {
  if (!trim) return undefined;
  const length = durationMs / 1000;
  // The probe's duration is rounded to the millisecond: half of one is not a reason to refuse.
  const slack = 0.0005;
  if (trim.start >= length) return `The trim starts at ${trim.start} s, but the recording is only ${length} s long.`;
  if (trim.end !== null && trim.end > length + slack) return `The trim ends at ${trim.end} s, but the recording is only ${length} s long.`;
  return undefined;
}

/** How long the trimmed audio is, in milliseconds, for an input of this length. */
export const trimmedDurationMs = (trim: Trim | null, durationMs: number): number =>
  trim ? Math.max(0, Math.min(durationMs, trim.end === null ? durationMs : trim.end * 1000) - trim.start * 1000) : durationMs;

/** The trim as the API shows it. */
export interface TrimView {
  start: number;
  end: number | null;
}

export const trimView = (trim: Trim | null): TrimView | null => (trim ? { start: trim.start, end: trim.end } : null);
