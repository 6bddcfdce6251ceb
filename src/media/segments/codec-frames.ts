import type { Preset } from '../presets.ts';

/**
 * What segmenting needs to know about each preset's codec: the size of its frames (segment
 * boundaries fall on multiples of it, so a segment's packets line up with a one-pass encode's),
 * how much audio before a segment the encoder must see so its state has settled by the boundary
 * (pre-roll), how much after it so the last kept frame is complete (post-roll), and whether this
 * library can join the outputs sample-exactly. See DESIGN.md, "Segmenting lossy audio".
 */
export type Joiner = 'wav' | 'flac' | 'mp3' | 'aac' | 'opus';

export interface SegmentCodec {
  /** Samples per channel in one packet at the output rate. */
  frameSize(sampleRate: number): number;
  preRollFrames: number;
  postRollFrames: number;
  /** How segment outputs become one file; absent when no exact join exists yet. */
  joiner?: Joiner;
  /** Extra encoder arguments every segment needs (the same for each). */
  encoderArgs: readonly string[];
}

/** FLAC's block sizes that need no explicit size in a frame header, as ffmpeg's encoder picks them. */
const flacBlockSizes = [192, 576, 1152, 2304, 4608, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];

/**
 * ffmpeg's FLAC encoder aims at 105 ms per block and takes the largest standard size not above
 * that (4608 at 44.1 and 48 kHz). The join checks every frame against this, so a different
 * encoder choice fails loudly rather than leaving a short block inside the stream.
 */
export function flacBlockSize(sampleRate: number): number {
  const target = Math.floor((105 * sampleRate) / 1000);
  let best = 0;
  for (const size of flacBlockSizes) if (size <= target && size > best) best = size;
  return best || 4608;
}

const codecs: Record<string, SegmentCodec> = {
  // PCM has no frames: any boundary is exact.
  pcm_s16le: { frameSize: () => 1, preRollFrames: 0, postRollFrames: 0, joiner: 'wav', encoderArgs: [] },
  // FLAC frames are independent: exact on block boundaries, no overlap at all.
  flac: { frameSize: flacBlockSize, preRollFrames: 0, postRollFrames: 0, joiner: 'flac', encoderArgs: [] },
  // Without the bit reservoir every frame carries its own bits, so a spliced frame decodes whole;
  // 8 frames (~0.2 s) of pre-roll settle the psychoacoustic model, 4 after cover the MDCT overlap.
  libmp3lame: { frameSize: () => 1152, preRollFrames: 8, postRollFrames: 4, joiner: 'mp3', encoderArgs: ['-reservoir', '0'] },
  // ffmpeg's native AAC encoder's rate control settles over ~0.5 s: 64 frames (~1.5 s) of pre-roll.
  // Segments are written as MP4 so the last packet's length (the end trim) survives to the join.
  aac: { frameSize: () => 1024, preRollFrames: 64, postRollFrames: 4, joiner: 'aac', encoderArgs: [] },
  // Opus wants ≥ 80 ms of pre-roll, but its VBR rate control remembers longer: with 1 s, a 60 s
  // input in 10 s segments still differed from one pass for ~0.3 s after two seams (−40 dB);
  // 3 s (150 frames of 20 ms) decodes identically to one pass there.
  libopus: { frameSize: () => 960, preRollFrames: 150, postRollFrames: 4, joiner: 'opus', encoderArgs: [] },
  // Vorbis switches between short and long blocks (256/2048 at 44.1 kHz) as the signal asks, so
  // packet boundaries are not on a fixed grid: planned on the long block, never joined.
  libvorbis: { frameSize: () => 2048, preRollFrames: 16, postRollFrames: 4, encoderArgs: [] },
  // ffmpeg's ALAC encoder writes 4096-sample frames; the MP4 join is not written yet.
  alac: { frameSize: () => 4096, preRollFrames: 0, postRollFrames: 0, encoderArgs: [] },
};

export function segmentCodec(preset: Preset): SegmentCodec | undefined {
  return codecs[preset.codec];
}

/**
 * Whether a preset's output can be encoded in segments and joined into a file indistinguishable
 * from one pass. False means the caller encodes it in one pass: a seam is never shipped.
 */
export function canSegment(preset: Preset): boolean {
  return segmentCodec(preset)?.joiner !== undefined;
}
