import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { TranscodeExtras } from '../ffmpeg-args.ts';
import { outputSampleRate, type Preset } from '../presets.ts';
import type { ProbeResult } from '../types.ts';
import { segmentCodec } from './codec-frames.ts';
import { segmentEncodeArgs } from './encode-args.ts';
import { joinSegments } from './join.ts';
import { planSegments, type Segment } from './plan.ts';
import { runFfmpeg } from './run-ffmpeg.ts';

export interface SegmentedEncode {
  inputPath: string;
  input: ProbeResult;
  preset: Preset;
  outPath: string;
  /** Where segment outputs go; they are removed once joined (or on failure). */
  scratchDir: string;
  segmentSeconds: number;
  /** How many segment encodes run at once, here in this process. */
  parallel: number;
  ffmpegPath?: string;
  /** The Ogg cover comment file, as a one-pass transcode would use it. */
  extras?: TranscodeExtras;
}

/**
 * A whole segmented encode on this machine: plan, encode the segments `parallel` at a time, join.
 * The service will run segments as separate jobs instead; this is what tests and the bench use,
 * and the reference for how the pieces fit.
 */
export async function encodeSegmented(request: SegmentedEncode): Promise<Segment[]> {
  const { input, preset } = request;
  const codec = segmentCodec(preset);
  if (!codec) throw new Error(`no segment facts for ${preset.id}`);
  const rate = outputSampleRate(preset, input.sampleRate);
  const segments = planSegments({ totalSamples: Math.round((input.durationMs / 1000) * rate), segmentSamples: request.segmentSeconds * rate, codec, sampleRate: rate });
  const paths = segments.map((s) => path.join(request.scratchDir, `segment-${s.index}.${preset.extension}`));
  try {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < segments.length; i = next++) {
        await runFfmpeg(segmentEncodeArgs(request.inputPath, input, preset, segments[i]!, paths[i]!, request.extras), undefined, request.ffmpegPath);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, request.parallel) }, worker));
    await joinSegments(preset, segments, paths, request.outPath, request.ffmpegPath);
    return segments;
  } finally {
    await Promise.all(paths.map((p) => rm(p, { force: true })));
  }
}
