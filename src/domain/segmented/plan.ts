import { canSegment, planSegments, segmentCodec, type Segment } from '../../media/segments/index.ts';
import { outputSampleRate, type Preset } from '../../media/presets.ts';
import type { LoudnessAnalysis, ProbeResult } from '../../media/types.ts';

/**
 * One job's share of a segmented transcode. A `segment` part encodes one segment of one preset;
 * the single `whole` part encodes, in one pass, the presets that cannot be joined exactly (and
 * always the waveform's peaks, which cost a decode and nothing more). `weight` is the part's
 * share of the file's progress bar: seconds of audio it encodes, in rough encoder cost.
 */
export type PartSpec =
  | { kind: 'segment'; presetId: string; segment: Segment; weight: number }
  | { kind: 'whole'; presetIds: string[]; weight: number };

export interface SegmentedPlan {
  /** The full probe (bit depth and cover included), so parts never probe again. */
  probe: ProbeResult;
  /** The measured loudness and its linear plan: the same gain in every part. */
  loudness?: LoudnessAnalysis;
  parts: PartSpec[];
  /** Presets encoded in one pass in the `whole` part, each with why. */
  onePass: { presetId: string; reason: string }[];
}

/** Peaks alone cost a decode: a tenth of an encode, roughly. */
const PEAKS_WEIGHT = 0.1;

/** Whether a transcode of this length goes in segments (SEGMENT_MIN_SECONDS; 0 turns it off). */
export function shouldSegment(durationMs: number, minSeconds: number, presets: readonly Preset[]): boolean {
  return minSeconds > 0 && durationMs / 1000 > minSeconds && presets.some(canSegment);
}

/**
 * Segments are half the threshold long: any input over it has at least two, and AAC's 1.5 s of
 * pre-roll stays a small share of each at the default (150 s segments).
 */
export const segmentSecondsFor = (minSeconds: number) => minSeconds / 2;

export function planParts(probe: ProbeResult, presets: readonly Preset[], minSeconds: number, loudness?: LoudnessAnalysis): SegmentedPlan {
  const parts: PartSpec[] = [];
  const onePass: SegmentedPlan['onePass'] = [];
  const seconds = probe.durationMs / 1000;
  for (const preset of presets) {
    const codec = segmentCodec(preset);
    if (!codec || !canSegment(preset)) {
      onePass.push({ presetId: preset.id, reason: `${preset.codec} output cannot be joined sample-exactly` });
      continue;
    }
    const rate = outputSampleRate(preset, probe.sampleRate);
    const segments = planSegments({
      totalSamples: Math.round(seconds * rate),
      segmentSamples: Math.round(segmentSecondsFor(minSeconds) * rate),
      codec,
      sampleRate: rate,
    });
    for (const segment of segments) {
      const to = segment.encodeTo ?? Math.round(seconds * rate);
      parts.push({ kind: 'segment', presetId: preset.id, segment, weight: Math.max(0, to - segment.encodeFrom) / rate });
    }
  }
  // The whole part goes first: it is the longest, so it should start first.
  parts.unshift({ kind: 'whole', presetIds: onePass.map((o) => o.presetId), weight: seconds * (PEAKS_WEIGHT + onePass.length) });
  return { probe, ...(loudness ? { loudness } : {}), parts, onePass };
}

/** The file's progress from its parts' (0..100 each), weighted by their share. */
export function overallProgress(plan: SegmentedPlan, progress: ReadonlyMap<number, number>): number {
  const total = plan.parts.reduce((sum, p) => sum + p.weight, 0) || 1;
  const done = plan.parts.reduce((sum, p, i) => sum + p.weight * (progress.get(i) ?? 0), 0);
  return done / total;
}
