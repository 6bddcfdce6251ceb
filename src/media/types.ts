import type { Readable } from 'node:stream';
import type { LoudnessMeasurement, LoudnessPlan, LoudnessTarget } from './loudness.ts';
import type { Preset } from './presets.ts';
import type { Segment } from './segments/plan.ts';

export interface ProbeResult {
  /** ffmpeg demuxer name, used to pin the input format when transcoding. */
  format: string;
  codec: string;
  durationMs: number;
  sampleRate: number;
  channels: number;
  bitRate: number;
  /** An attached picture (cover art) is present as a video stream. */
  hasCover: boolean;
  /**
   * Bits per decoded sample as the probe saw them (0: the codec does not say). Absent when the
   * probe result was rebuilt from a stored file row: the transcode probes again if it needs it.
   */
  bits?: number;
  /** The cover picture's codec and size, when there is one (see `bits` for when it is absent). */
  cover?: { codec: 'mjpeg' | 'png'; width: number; height: number };
}

/**
 * The part of the input to use, in seconds of decoded audio; `end` null: to the end. Applied to
 * the decoded samples (not by seeking), so every output, the peaks and the meter hear exactly it.
 */
export interface TrimRange {
  start: number;
  end: number | null;
}

export interface OutputPlan {
  preset: Preset;
  path: string;
}

/** What one job may take; the transcode enforces both while ffmpeg runs. */
export interface MediaLimits {
  /** Longest audio a job may produce (the container's own duration can lie). */
  maxInputSeconds: number;
  /** Most bytes the job's outputs and peaks file may take together. */
  maxOutputBytes: number;
}

export interface TranscodeRequest {
  inputPath: string;
  input: ProbeResult;
  outputs: readonly OutputPlan[];
  /** Where to write a low-rate mono copy for the waveform, decoded in the same pass. */
  peaksPath?: string;
  signal: AbortSignal;
  limits: MediaLimits;
  /** Called with 0..100 as ffmpeg reports progress. */
  onProgress(percent: number): void;
  /** Loudness normalization's second pass: the gain (and limiter) applied before every output. */
  loudness?: LoudnessPlan;
  /** Only this part of the input; `input.durationMs` should then be the trimmed length. */
  trim?: TrimRange;
}

/** Loudness normalization's first pass: measure the input and decide how to reach the target. */
export interface LoudnessRequest {
  inputPath: string;
  input: ProbeResult;
  target: LoudnessTarget;
  /** Any lossy output among the job's: they need headroom for the peaks their encoders add. */
  lossy: boolean;
  /** Measure only this part of the input (what the outputs will be made from). */
  trim?: TrimRange;
  signal: AbortSignal;
  limits: MediaLimits;
  onProgress(percent: number): void;
}

export interface LoudnessAnalysis {
  before: LoudnessMeasurement;
  plan: LoudnessPlan;
}

export interface TranscodeResult {
  durationMs: number;
  /** The limited audio as measured in the same run, before encoding (with a limiter plan only). */
  loudnessAfter?: LoudnessMeasurement;
}

/**
 * The stored input a segment reads: only the byte range it needs where that is provably exact
 * (a plain PCM WAV, decision 0027), else the whole file, as a local path.
 */
export interface SegmentInput {
  /** The stored object's size in bytes. */
  size: number;
  /** Streams the inclusive byte range of the stored object (a ranged GET on S3). */
  read(range: { start: number; end: number }): Promise<Readable>;
  /** The whole input as a local file (a download on S3); the caller releases it after the run. */
  localPath(): Promise<string>;
  /**
   * The stored object itself when it is a file on this machine (disk storage): ffmpeg then reads
   * a segment's byte range in place rather than through a pipe from this process.
   */
  localFile?: string;
  /**
   * A short-lived URL to the stored object (a presigned GET on S3, decision 0031): ffmpeg then
   * fetches a segment's byte range itself rather than through a pipe from this process.
   */
  url?(): Promise<string>;
}

/**
 * How a segment read its input: a byte range (how many bytes, and whether ffmpeg read them itself
 * from the stored file or a URL rather than from a pipe), or the whole file (and why).
 */
export type SegmentEncodeResult = { input: 'range'; bytes: number; readBy?: 'file' | 'url' } | { input: 'file'; reason: string };

/** One segment of one preset, as its own ffmpeg run (segmented transcodes, issue 12). */
export interface SegmentEncodeRequest {
  source: SegmentInput;
  /** The full probe (bit depth and cover): parts never probe again. */
  input: ProbeResult;
  preset: Preset;
  segment: Segment;
  outPath: string;
  /** A linear loudness plan: the same gain in every segment. A limiter cannot be split. */
  loudness?: LoudnessPlan;
  /** Only this part of the input, cut before the resampler as one pass cuts it; `segment` counts samples of the cut audio. */
  trim?: TrimRange;
  signal: AbortSignal;
  limits: MediaLimits;
  onProgress(percent: number): void;
}

/** Joins one preset's segment outputs, in plan order, into one file. */
export interface SegmentJoinRequest {
  preset: Preset;
  segments: readonly Segment[];
  paths: readonly string[];
  outPath: string;
}

export interface Media {
  encodeSegment(request: SegmentEncodeRequest): Promise<SegmentEncodeResult>;
  /** Rejects with a MediaError rather than write a file with a seam. */
  joinSegments(request: SegmentJoinRequest): Promise<void>;
  probe(path: string): Promise<ProbeResult>;
  /** Resolves with the duration of the audio written, as ffmpeg reported it at the end. */
  transcode(request: TranscodeRequest): Promise<TranscodeResult>;
  analyzeLoudness(request: LoudnessRequest): Promise<LoudnessAnalysis>;
  /** Peak levels (0..100) in equal slices of the audio, read from the peaks file of a transcode. */
  waveform(peaksPath: string): Promise<number[]>;
}

export type MediaErrorKind =
  | 'not_audio'
  | 'playlist'
  | 'empty'
  | 'failed'
  | 'stalled'
  | 'canceled'
  | 'too_long'
  | 'too_large'
  | 'too_many_channels';

/** A failure with a message fit to show the file's owner. */
export class MediaError extends Error {
  constructor(
    readonly kind: MediaErrorKind,
    message: string,
    /** Numbers behind the message (a limit and what was measured), for API clients. */
    readonly facts: Readonly<Record<string, number>> = {},
  ) {
    super(message);
    this.name = 'MediaError';
  }
}
