import { outputChannels, outputSampleFormat, outputSampleRate, type Preset } from '../presets.ts';
import type { ProbeResult, TrimRange } from '../types.ts';
import type { Segment } from './plan.ts';
import type { WavLayout } from './wav-header.ts';

/**
 * Which bytes of a PCM WAV one segment needs, and how to cut the decoded audio so its encoder sees
 * exactly the samples it would see decoding the whole file from its start (decision 0027).
 *
 * The chain is trim → gain → aresample → atrim → encoder. Trim, gain (`volume`), channel mixing
 * and sample-format conversion without dither work sample by sample, so any starting sample gives
 * the same samples. The resampler has history and a phase: it restarts identically only at an
 * input sample that is a whole number of the rate ratio's periods in, and its output settles once
 * it has seen its filter's length of real input; RESAMPLER_MARGIN_SECONDS is far more than that,
 * before the segment and after it. Dither has random state, so dithered outputs never take this
 * path, nor rate pairs the byte-identity test does not cover.
 */
export interface RangeRead {
  /** Inclusive byte range of the stored file. */
  start: number;
  end: number;
  /** The segment's samples counted from the first sample read, at the output rate. */
  encodeFrom: number;
  encodeTo?: number;
}

export const RESAMPLER_MARGIN_SECONDS = 0.5;
/** Input and output rates whose resampled segments the test proves byte-identical. */
const PROVEN_RESAMPLING_RATES: readonly number[] = [44100, 48000];

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Why this preset's chain cannot start mid-file exactly; undefined when it can. */
export function rangeRefusal(input: ProbeResult, preset: Preset): string | undefined {
  if (outputSampleFormat(preset, { codec: input.codec, bits: input.bits ?? 0 })) return 'the output is dithered';
  if (input.channels > 2 || outputChannels(preset, input.channels) !== input.channels) return 'the channels are remixed';
  const rate = outputSampleRate(preset, input.sampleRate);
  if (rate !== input.sampleRate && !(PROVEN_RESAMPLING_RATES.includes(rate) && PROVEN_RESAMPLING_RATES.includes(input.sampleRate))) {
    return `resampling ${input.sampleRate} Hz to ${rate} Hz is not proven exact from mid-file`;
  }
  return undefined;
}

/**
 * The bytes to read for `segment` (counted, as the plan counts, in output samples of the trimmed
 * audio) and its new trim points; undefined when the segment would read nothing.
 */
export function segmentRange(layout: WavLayout, input: ProbeResult, preset: Preset, segment: Segment, trim?: TrimRange): RangeRead | undefined {
  const inRate = layout.sampleRate;
  const outRate = outputSampleRate(preset, input.sampleRate);
  const frames = layout.dataBytes / layout.blockAlign;
  // One pass's trim, as trimFilter counts it: samples of the input rate.
  const cutStart = Math.min(frames, trim ? Math.round(trim.start * inRate) : 0);
  const cutEnd = Math.min(frames, trim?.end != null ? Math.round(trim.end * inRate) : frames);

  let fromIn: number;
  let shift: number;
  let toIn: number | undefined;
  if (inRate === outRate) {
    fromIn = shift = segment.encodeFrom;
    toIn = segment.encodeTo;
  } else {
    const divisor = gcd(inRate, outRate);
    const periodIn = inRate / divisor;
    const periodOut = outRate / divisor;
    const periods = Math.floor(Math.max(0, segment.encodeFrom - Math.ceil(RESAMPLER_MARGIN_SECONDS * outRate)) / periodOut);
    fromIn = periods * periodIn;
    shift = periods * periodOut;
    toIn = segment.encodeTo === undefined ? undefined : Math.ceil((segment.encodeTo * inRate) / outRate) + Math.ceil(RESAMPLER_MARGIN_SECONDS * inRate);
  }
  const first = cutStart + fromIn;
  const last = toIn === undefined ? cutEnd : Math.min(cutEnd, cutStart + toIn);
  if (first >= last) return undefined;
  return {
    start: layout.dataOffset + first * layout.blockAlign,
    end: layout.dataOffset + last * layout.blockAlign - 1,
    encodeFrom: segment.encodeFrom - shift,
    ...(segment.encodeTo !== undefined ? { encodeTo: segment.encodeTo - shift } : {}),
  };
}
