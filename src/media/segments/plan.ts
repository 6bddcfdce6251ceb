import type { SegmentCodec } from './codec-frames.ts';

/**
 * One segment of a segmented encode. Sample positions count samples per channel at the output
 * rate, from the start of the input. The segment's encoder reads [encodeFrom, encodeTo) and the
 * join keeps its packets for [start, end): `skipFrames` packets of pre-roll are dropped first.
 */
export interface Segment {
  index: number;
  start: number;
  /** Absent for the last segment, which runs to the end of the input. */
  end?: number;
  encodeFrom: number;
  /** Absent for the last segment. */
  encodeTo?: number;
  /** Leading packets that belong to the previous segment (pre-roll). */
  skipFrames: number;
  /** Packets kept after the skipped ones; absent for the last segment (all that remain). */
  keepFrames?: number;
  frameSize: number;
}

export interface PlanRequest {
  /** Approximate length of the input at the output rate: only boundaries depend on it. */
  totalSamples: number;
  /** Wished length of one segment, in samples at the output rate. */
  segmentSamples: number;
  codec: SegmentCodec;
  sampleRate: number;
}

/**
 * Splits an input into segments whose boundaries fall on multiples of the codec's frame size, so
 * every kept packet of a segment covers the same samples as the packet at that place in a
 * one-pass encode. A tail shorter than half a segment joins the segment before it, rather than
 * becoming a segment that costs a process for a few seconds of audio.
 */
export function planSegments({ totalSamples, segmentSamples, codec, sampleRate }: PlanRequest): Segment[] {
  const frameSize = codec.frameSize(sampleRate);
  const step = Math.max(frameSize, Math.floor(segmentSamples / frameSize) * frameSize);
  const boundaries: number[] = [];
  for (let at = step; totalSamples - at >= step / 2; at += step) boundaries.push(at);
  const starts = [0, ...boundaries];
  const preRoll = codec.preRollFrames * frameSize;
  const postRoll = codec.postRollFrames * frameSize;
  return starts.map((start, index) => {
    const end = boundaries[index];
    const encodeFrom = Math.max(0, start - preRoll);
    return {
      index,
      start,
      end,
      encodeFrom,
      encodeTo: end === undefined ? undefined : end + postRoll,
      skipFrames: (start - encodeFrom) / frameSize,
      keepFrames: end === undefined ? undefined : (end - start) / frameSize,
      frameSize,
    };
  });
}
