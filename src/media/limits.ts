import { PEAKS_SAMPLE_RATE } from './ffmpeg-args.ts';
import { formatBytes, formatClock } from '../format.ts';
import { outputChannels, outputSampleRate, type Preset } from './presets.ts';
import { MediaError, type MediaLimits, type ProbeResult } from './types.ts';

/**
 * Limits on what one job may cost, checked before it starts (from the probe) and again while
 * ffmpeg runs (see run-guard.ts), because a container's duration can lie. Pure: domain code
 * calls it for uploads and for jobs that probe remote inputs themselves.
 */

/** Bit-rate presets are targets, not ceilings (AAC and Opus run VBR around them). */
const BIT_RATE_MARGIN = 1.25;
/** Container overhead on top of the audio: frame headers, Ogg pages, the MP4 sample index. */
const CONTAINER_FACTOR = 1.02;
/** Headers and tags per output. Cover art is not counted: the runtime guard catches a huge one. */
const PER_OUTPUT_BYTES = 64 * 1024;

const bytesPerSample = (sampleFormat: string | undefined): number =>
  sampleFormat?.startsWith('s16') ? 2 : sampleFormat?.startsWith('u8') ? 1 : 4;

/** The most bytes per second of input the preset can write for this input. */
export function maxBytesPerSecond(preset: Preset, input: Pick<ProbeResult, 'sampleRate' | 'channels'>): number {
  const pcm = outputSampleRate(preset, input.sampleRate) * outputChannels(preset, input.channels) * bytesPerSample(preset.sampleFormat);
  // Lossless codecs fall back to verbatim frames on noise, so PCM (plus framing) bounds them.
  if (preset.lossless) return pcm;
  if (preset.bitRate !== undefined) return (preset.bitRate * BIT_RATE_MARGIN) / 8;
  return preset.maxBitRate !== undefined ? preset.maxBitRate / 8 : pcm;
}

/** An upper bound of the bytes a job writes: every output plus the waveform's peaks file. */
export function estimateOutputBytes(input: ProbeResult, presets: readonly Preset[]): number {
  const seconds = input.durationMs / 1000;
  const outputs = presets.reduce(
    (sum, preset) => sum + Math.ceil(maxBytesPerSecond(preset, input) * seconds * CONTAINER_FACTOR) + PER_OUTPUT_BYTES,
    0,
  );
  return outputs + Math.ceil(PEAKS_SAMPLE_RATE * seconds);
}

/** Refuses an input whose probed length, or the outputs it would make, pass the limits. */
export function checkInputLimits(input: ProbeResult, presets: readonly Preset[], limits: MediaLimits): void {
  const seconds = input.durationMs / 1000;
  if (seconds > limits.maxInputSeconds) {
    throw new MediaError(
      'too_long',
      `This recording is ${formatClock(Math.ceil(seconds))} long; this server accepts up to ${formatClock(limits.maxInputSeconds)}.`,
      { limitSeconds: limits.maxInputSeconds, seconds },
    );
  }
  const estimated = estimateOutputBytes(input, presets);
  if (estimated > limits.maxOutputBytes) {
    throw new MediaError(
      'too_large',
      `The chosen formats of this ${formatClock(Math.ceil(seconds))} recording could take up to ${formatBytes(estimated)}; this server allows ${formatBytes(limits.maxOutputBytes)} per file. Choose fewer or smaller formats.`,
      { limitBytes: limits.maxOutputBytes, estimatedBytes: estimated },
    );
  }
}

/**
 * How far ffmpeg may get before the running job is stopped. A little past the limit, because
 * encoder padding (AAC priming, Opus pre-skip) makes a file at exactly the limit end slightly after it.
 */
export const runtimeCeilingMs = (limits: MediaLimits): number => limits.maxInputSeconds * 1010 + 2000;
