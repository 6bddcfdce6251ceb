import type { Preset } from './presets.ts';

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
}

export interface OutputPlan {
  preset: Preset;
  path: string;
}

export interface TranscodeRequest {
  inputPath: string;
  input: ProbeResult;
  outputs: readonly OutputPlan[];
  /** Where to write a low-rate mono copy for the waveform, decoded in the same pass. */
  peaksPath?: string;
  signal: AbortSignal;
  /** Called with 0..100 as ffmpeg reports progress. */
  onProgress(percent: number): void;
}

export interface Media {
  probe(path: string): Promise<ProbeResult>;
  /** Resolves with the duration of the audio written, as ffmpeg reported it at the end. */
  transcode(request: TranscodeRequest): Promise<{ durationMs: number }>;
  /** Peak levels (0..100) in equal slices of the audio, read from the peaks file of a transcode. */
  waveform(peaksPath: string): Promise<number[]>;
}

export type MediaErrorKind = 'not_audio' | 'playlist' | 'empty' | 'failed' | 'stalled' | 'canceled';

/** A failure with a message fit to show the file's owner. */
export class MediaError extends Error {
  constructor(
    readonly kind: MediaErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'MediaError';
  }
}
