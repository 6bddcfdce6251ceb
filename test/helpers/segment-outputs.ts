import path from 'node:path';
import type { TranscodeExtras } from '../../src/media/ffmpeg-args.ts';
import { outputSampleRate, type Preset } from '../../src/media/presets.ts';
import { planSegments, segmentCodec, segmentEncodeArgs, type Segment } from '../../src/media/segments/index.ts';
import { runFfmpeg } from '../../src/media/segments/run-ffmpeg.ts';
import type { ProbeResult } from '../../src/media/types.ts';

export interface SegmentOutputs {
  segments: Segment[];
  paths: string[];
}

/**
 * Encodes every segment of `preset` into `dir` and keeps them, so that one set of segment
 * outputs can be joined more than once (old join against new, or under a probe of memory).
 */
export async function encodeSegmentOutputs(inputPath: string, input: ProbeResult, preset: Preset, dir: string, segmentSeconds: number, extras?: TranscodeExtras, parallel = 2): Promise<SegmentOutputs> {
  const codec = segmentCodec(preset);
  if (!codec) throw new Error(`no segment facts for ${preset.id}`);
  const rate = outputSampleRate(preset, input.sampleRate);
  const segments = planSegments({ totalSamples: Math.round((input.durationMs / 1000) * rate), segmentSamples: segmentSeconds * rate, codec, sampleRate: rate });
  const paths = segments.map((s) => path.join(dir, `${preset.id}-segment-${s.index}.${preset.extension}`));
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < segments.length; i = next++) await runFfmpeg(segmentEncodeArgs(inputPath, input, preset, segments[i]!, paths[i]!, extras));
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { segments, paths };
}
