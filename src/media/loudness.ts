/**
 * Loudness normalization as data and arithmetic (ITU-R BS.1770 / EBU R128): reading ffmpeg's
 * ebur128 meter, choosing between plain gain and a true-peak limiter, and the filters for either.
 * Pure: the ffmpeg runs live in loudness-run.ts and ffmpeg-args.ts.
 */

/** What a normalized output should measure. */
export interface LoudnessTarget {
  integratedLufs: number;
  truePeakDbtp: number;
  /** Recorded and reported; plain gain and a peak limiter leave the range as it was. */
  rangeLu: number;
}

/** One reading of the meter. `null` where the meter found nothing (silence: −∞). */
export interface LoudnessMeasurement {
  integratedLufs: number | null;
  truePeakDbtp: number | null;
  rangeLu: number;
}

export type LoudnessMethod = 'linear' | 'limiter';

/** How the second pass changes the audio. */
export interface LoudnessPlan {
  method: LoudnessMethod;
  gainDb: number;
  /** The true peak the result must stay under: the target, less headroom for lossy encoders. */
  ceilingDbtp: number;
  /** The rate the audio is processed at; the limiter oversamples and comes back to it. */
  sampleRate: number;
}

/** ebur128 with true-peak metering; its summary is printed at the end, at the "info" log level. */
export const METER_FILTER = 'ebur128=peak=true:framelog=verbose';

/**
 * Lossy encoders add true peak over the PCM they are given (native AAC 256k measured +0.7–1.0 dB,
 * LAME 320k ~0.15 dB): with any lossy output, the ceiling sits this far under the target.
 */
export const LOSSY_HEADROOM_DB = 1.3;
/** The meter reads to 0.1 dB and dither adds a little: lossless outputs keep this much. */
export const LOSSLESS_MARGIN_DB = 0.2;
/**
 * Limiting at the oversampled rate still leaves overs after coming back down (the gain changes
 * add high frequencies the final resampling smooths out), and libebur128 reads clicks up to
 * ~0.8 dB higher than ffmpeg's meter: a slow attack and this margin keep both under the ceiling.
 */
const LIMITER_MARGIN_DB = 0.5;
/** ebur128 reports −70 LUFS when nothing passes its gate: there is nothing to normalize. */
const SILENCE_LUFS = -70;

const number = (text: string | undefined): number | null => {
  if (text === undefined || /inf/i.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
};

/** Reads the last ebur128 summary in ffmpeg's stderr; undefined when there is none. */
export function parseMeterSummary(stderr: string): LoudnessMeasurement | undefined {
  const at = stderr.lastIndexOf('Summary:');
  if (at < 0) return undefined;
  const summary = stderr.slice(at);
  const integrated = /\bI:\s+(\S+)\s+LUFS/.exec(summary)?.[1];
  const range = /\bLRA:\s+(\S+)\s+LU\b/.exec(summary)?.[1];
  const peak = /\bPeak:\s+(\S+)\s+dBFS/.exec(summary)?.[1];
  if (integrated === undefined || range === undefined) return undefined;
  const i = number(integrated);
  return {
    integratedLufs: i === null || i <= SILENCE_LUFS ? null : i,
    truePeakDbtp: number(peak),
    rangeLu: number(range) ?? 0,
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Plain gain when it brings the audio to the target without pushing its true peak over the
 * ceiling; otherwise the same gain into a true-peak limiter (which never touches the dynamics
 * below the ceiling, unlike loudnorm's dynamic mode).
 */
export function planLoudness(
  before: LoudnessMeasurement,
  target: LoudnessTarget,
  opts: { lossy: boolean; sampleRate: number },
): LoudnessPlan {
  const ceilingDbtp = round2(target.truePeakDbtp - (opts.lossy ? LOSSY_HEADROOM_DB : LOSSLESS_MARGIN_DB));
  const sampleRate = opts.sampleRate > 0 ? opts.sampleRate : 48000;
  if (before.integratedLufs === null) return { method: 'linear', gainDb: 0, ceilingDbtp, sampleRate };
  const gainDb = round2(target.integratedLufs - before.integratedLufs);
  const peakAfter = before.truePeakDbtp === null ? -Infinity : before.truePeakDbtp + gainDb;
  return { method: peakAfter <= ceilingDbtp ? 'linear' : 'limiter', gainDb, ceilingDbtp, sampleRate };
}

/** The rate the limiter works at: 4× oversampling (as BS.1770's true peak), at most 192 kHz. */
const oversampledRate = (rate: number) => Math.max(rate, Math.min(rate * 4, 192_000));

/** The filter chain (for -af or a filtergraph) that applies a plan and keeps the sample rate. */
export function gainFilters(plan: LoudnessPlan): string {
  const gain = `volume=${plan.gainDb.toFixed(2)}dB`;
  if (plan.method === 'linear') return gain;
  // alimiter works on samples: at 4× the rate its sample peaks are the true peaks. Auto-level off
  // (it would raise the output to 0 dBFS), latency compensated so nothing shifts in time.
  const limit = Math.pow(10, (plan.ceilingDbtp - LIMITER_MARGIN_DB) / 20);
  return [
    gain,
    `aresample=${oversampledRate(plan.sampleRate)}`,
    `alimiter=limit=${limit.toFixed(5)}:attack=10:release=200:level=0:latency=1`,
    `aresample=${plan.sampleRate}`,
  ].join(',');
}

/** A measurement rounded for storage and display: the meter reads to 0.1. */
export const roundMeasurement = (m: LoudnessMeasurement): LoudnessMeasurement => ({
  integratedLufs: m.integratedLufs === null ? null : Math.round(m.integratedLufs * 10) / 10,
  truePeakDbtp: m.truePeakDbtp === null ? null : Math.round(m.truePeakDbtp * 10) / 10,
  rangeLu: Math.round(m.rangeLu * 10) / 10,
});

/**
 * What plain gain makes of a measurement: BS.1770 loudness and true peak move by exactly the gain
 * and the range not at all, so the linear case needs no second meter (it would cost as much as the
 * first pass). Only the limiter's result has to be measured.
 */
export const shiftedBy = (m: LoudnessMeasurement, gainDb: number): LoudnessMeasurement => ({
  integratedLufs: m.integratedLufs === null ? null : m.integratedLufs + gainDb,
  truePeakDbtp: m.truePeakDbtp === null ? null : m.truePeakDbtp + gainDb,
  rangeLu: m.rangeLu,
});
