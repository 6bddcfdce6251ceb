import { AppError } from '../errors.ts';
import type { LoudnessMeasurement, LoudnessMethod, LoudnessTarget } from '../media/loudness.ts';

/** The targets people pick by name; `custom` takes its three numbers from the upload. */
export const loudnessPresets = {
  podcast: { integratedLufs: -16, truePeakDbtp: -1, rangeLu: 11 },
  streaming: { integratedLufs: -14, truePeakDbtp: -1, rangeLu: 11 },
  broadcast: { integratedLufs: -23, truePeakDbtp: -1, rangeLu: 20 },
} as const satisfies Record<string, LoudnessTarget>;

export const loudnessModes = ['off', 'podcast', 'streaming', 'broadcast', 'custom'] as const;
export type LoudnessMode = Exclude<(typeof loudnessModes)[number], 'off'>;

/** What a file was asked to be normalized to. */
export interface LoudnessOption {
  mode: LoudnessMode;
  target: LoudnessTarget;
}

/**
 * What the job measured and did. `after` is the normalized audio before encoding: measured when
 * a limiter acted ('meter'), the measurement moved by the gain when plain gain did ('gain').
 */
export interface LoudnessReport {
  method: LoudnessMethod;
  gainDb: number;
  before: LoudnessMeasurement;
  after: LoudnessMeasurement;
  afterFrom: 'meter' | 'gain';
}

/** The custom fields, their names in forms, metadata and JSON, and what each accepts. */
export const customFields = [
  { field: 'loudnessI', key: 'integratedLufs', min: -70, max: -5, unit: 'LUFS', what: 'integrated loudness' },
  { field: 'loudnessTP', key: 'truePeakDbtp', min: -9, max: 0, unit: 'dBTP', what: 'true-peak ceiling' },
  { field: 'loudnessLRA', key: 'rangeLu', min: 1, max: 50, unit: 'LU', what: 'loudness range' },
] as const;

export type LoudnessFields = Partial<Record<'loudness' | (typeof customFields)[number]['field'], unknown>>;

/** The loudness fields out of a form, a metadata map or a JSON body, by their names. */
export const pickLoudnessFields = (read: (name: string) => unknown): LoudnessFields => ({
  loudness: read('loudness'),
  loudnessI: read('loudnessI'),
  loudnessTP: read('loudnessTP'),
  loudnessLRA: read('loudnessLRA'),
});

const invalid = (field: string, detail: string) => new AppError('invalid_loudness', 422, detail, { field });
const given = (v: unknown) => v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '');
const isMode = (v: string): v is (typeof loudnessModes)[number] => (loudnessModes as readonly string[]).includes(v);

/**
 * Reads the upload's loudness fields: `loudness` is off (the default), a preset name, or custom
 * with loudnessI, loudnessTP and loudnessLRA. Anything else is a 422 naming the field.
 */
export function parseLoudnessOption(raw: LoudnessFields): LoudnessOption | null {
  const mode = given(raw.loudness) ? String(raw.loudness).trim() : 'off';
  if (!isMode(mode)) {
    throw invalid('loudness', `loudness must be one of ${loudnessModes.join(', ')}; got "${mode.slice(0, 40)}".`);
  }
  if (mode !== 'custom') {
    const stray = customFields.find((f) => given(raw[f.field]));
    if (stray) throw invalid(stray.field, `${stray.field} is read only with loudness=custom.`);
    return mode === 'off' ? null : { mode, target: { ...loudnessPresets[mode] } };
  }
  const target: Record<string, number> = {};
  for (const f of customFields) {
    const value = raw[f.field];
    if (!given(value)) throw invalid(f.field, `loudness=custom needs ${f.field} (${f.what}, ${f.min} to ${f.max} ${f.unit}).`);
    const n = typeof value === 'number' ? value : Number(String(value).trim());
    if (!Number.isFinite(n) || n < f.min || n > f.max) {
      throw invalid(f.field, `${f.field} (${f.what}) must be a number from ${f.min} to ${f.max} ${f.unit}.`);
    }
    target[f.key] = Math.round(n * 10) / 10;
  }
  return { mode, target: { integratedLufs: target.integratedLufs ?? 0, truePeakDbtp: target.truePeakDbtp ?? 0, rangeLu: target.rangeLu ?? 0 } };
}

/** The loudness part of a file resource: the option it was made with and, once done, the report. */
export interface LoudnessView {
  mode: (typeof loudnessModes)[number];
  target: LoudnessTarget | null;
  report: LoudnessReport | null;
}

export function loudnessView(option: LoudnessOption | null, report: LoudnessReport | null): LoudnessView {
  return { mode: option?.mode ?? 'off', target: option?.target ?? null, report };
}
