import type { Preset } from '../presets.ts';
import { segmentCodec } from './codec-frames.ts';
import { joinAac } from './join-aac.ts';
import { joinFlac } from './join-flac.ts';
import { joinMp3 } from './join-mp3.ts';
import { joinOpus } from './join-opus.ts';
import { joinWav } from './join-wav.ts';
import type { Segment } from './plan.ts';

/**
 * Joins the outputs of a plan's segments, in plan order, into one file at `outPath`. Throws
 * (rather than writing a file with a seam) when the preset has no exact join or a segment is
 * not what the plan says it should be.
 */
export async function joinSegments(preset: Preset, segments: readonly Segment[], paths: readonly string[], outPath: string, ffmpegPath?: string): Promise<void> {
  if (segments.length !== paths.length || segments.length === 0) throw new Error('one output per planned segment is needed');
  const joiner = segmentCodec(preset)?.joiner;
  switch (joiner) {
    case 'wav':
      return joinWav(segments, paths, outPath);
    case 'flac':
      return joinFlac(segments, paths, outPath, ffmpegPath);
    case 'mp3':
      return joinMp3(segments, paths, outPath);
    case 'opus':
      return joinOpus(segments, paths, outPath);
    case 'aac':
      return joinAac(segments, paths, outPath, ffmpegPath);
    case undefined:
      throw new Error(`preset ${preset.id} cannot be joined from segments: encode it in one pass`);
  }
}
