import { canSegment, planSegments, segmentCodec, type Segment } from '../../media/segments/index.ts';
import { outputSampleRate, type Preset } from '../../media/presets.ts';
import type { LoudnessAnalysis, ProbeResult, TrimRange } from '../../media/types.ts';

/**
 * One job's share of a segmented transcode. A `segment` part encodes one segment of one preset;
 * the single `whole` part encodes, in one pass, the presets that cannot be joined exactly (and
 * always the waveform's peaks, which cost a decode and nothing more); a `join` part joins one
 * preset's segments, and is queued only when the last of them is done, so joins overlap the
 * other presets' segments instead of all waiting for the end. `weight` is the part's share of
 * the file's progress bar: seconds of audio it encodes, in rough encoder cost.
 */
export type PartSpec =
  | { kind: 'segment'; presetId: string; segment: Segment; weight: number }
  | { kind: 'whole'; presetIds: string[]; weight: number }
  | { kind: 'join'; presetId: string; weight: number };

export interface SegmentedPlan {
  /** The full probe (bit depth and cover included), so parts never probe again; with a trim, its duration is the trimmed length. */
  probe: ProbeResult;
  /** The file's trim: every part cuts the decoded input to it first, and segments count samples from its start. */
  trim?: TrimRange;
  /** The measured loudness and its linear plan: the same gain in every part. */
  loudness?: LoudnessAnalysis;
  parts: PartSpec[];
  /** Presets encoded in one pass in the `whole` part, each with why. */
  onePass: { presetId: string; reason: string }[];
}

/** Peaks alone cost a decode: a tenth of an encode, roughly. */
const PEAKS_WEIGHT = 0.1;
/** Joining is copying packets: about a twentieth of encoding them (AAC 7.5 s per hour against ~60 s). */
const JOIN_WEIGHT = 0.05;
/** A lossless encode costs a fraction of a lossy one (FLAC ~0.1 s per minute against AAC's ~0.8 s). */
const LOSSLESS_WEIGHT = 0.2;

/**
 * Whether a preset's output is encoded in segments. Lossless ones could be (0012 joins them
 * exactly) but are not: FLAC and WAV encode faster than their segments are decoded up to their
 * start and joined again, so they go in the whole part beside the peaks.
 */
export const worthSegmenting = (preset: Preset) => canSegment(preset) && !preset.lossless;

/** Whether a transcode of this length goes in segments (SEGMENT_MIN_SECONDS; 0 turns it off). */
export function shouldSegment(durationMs: number, minSeconds: number, presets: readonly Preset[]): boolean {
  return minSeconds > 0 && durationMs / 1000 > minSeconds && presets.some(worthSegmenting);
}

/**
 * At most this many segments per preset. Each segment decodes the input from its start (0012),
 * so N segments cost about N/2 extra decodes of the whole input: past 8, that overhead grows
 * faster than two or a few workers gain. (A coarse seek would lift the cap.)
 */
export const MAX_SEGMENTS_PER_PRESET = 8;

/**
 * Segments are half the threshold long, or longer so there are at most MAX_SEGMENTS_PER_PRESET:
 * any input over the threshold has at least two, and AAC's 1.5 s of pre-roll stays a small
 * share of each (150 s segments at the default).
 */
export const segmentSecondsFor = (minSeconds: number, inputSeconds: number) => Math.max(minSeconds / 2, inputSeconds / MAX_SEGMENTS_PER_PRESET);

export function planParts(probe: ProbeResult, presets: readonly Preset[], minSeconds: number, loudness?: LoudnessAnalysis, trim?: TrimRange): SegmentedPlan {
  const parts: PartSpec[] = [];
  const onePass: SegmentedPlan['onePass'] = [];
  const seconds = probe.durationMs / 1000;
  for (const preset of presets) {
    const codec = segmentCodec(preset);
    if (!codec || !worthSegmenting(preset)) {
      const reason = canSegment(preset) ? 'lossless: encodes faster than it splits and joins' : `${preset.codec} output cannot be joined sample-exactly`;
      onePass.push({ presetId: preset.id, reason });
      continue;
    }
    const rate = outputSampleRate(preset, probe.sampleRate);
    const segments = planSegments({
      totalSamples: Math.round(seconds * rate),
      segmentSamples: Math.round(segmentSecondsFor(minSeconds, seconds) * rate),
      codec,
      sampleRate: rate,
    });
    for (const segment of segments) {
      const to = segment.encodeTo ?? Math.round(seconds * rate);
      parts.push({ kind: 'segment', presetId: preset.id, segment, weight: Math.max(0, to - segment.encodeFrom) / rate });
    }
    parts.push({ kind: 'join', presetId: preset.id, weight: seconds * JOIN_WEIGHT });
  }
  // The whole part goes first: it is the longest, so it should start first.
  const wholeCost = presets.filter((p) => !worthSegmenting(p)).reduce((sum, p) => sum + (p.lossless ? LOSSLESS_WEIGHT : 1), PEAKS_WEIGHT);
  parts.unshift({ kind: 'whole', presetIds: onePass.map((o) => o.presetId), weight: seconds * wholeCost });
  return { probe, ...(loudness ? { loudness } : {}), ...(trim ? { trim } : {}), parts, onePass };
}

/** Whether every segment of the preset is done: its join part may be queued. */
export function presetSegmentsDone(plan: SegmentedPlan, presetId: string, done: ReadonlySet<number>): boolean {
  return plan.parts.every((p, i) => p.kind !== 'segment' || p.presetId !== presetId || done.has(i));
}

/** The parts queued when the run starts: all but the joins, which wait for their segments. */
export const partsQueuedAtStart = (plan: SegmentedPlan): number[] => plan.parts.flatMap((p, i) => (p.kind === 'join' ? [] : [i]));

/** The file's progress from its parts' (0..100 each), weighted by their share. */
export function overallProgress(plan: SegmentedPlan, progress: ReadonlyMap<number, number>): number {
  const total = plan.parts.reduce((sum, p) => sum + p.weight, 0) || 1;
  const done = plan.parts.reduce((sum, p, i) => sum + p.weight * (progress.get(i) ?? 0), 0);
  return done / total;
}
