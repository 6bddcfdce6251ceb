/**
 * The joins as they were before they streamed (commit 2906a3b, whole segments read into memory),
 * kept verbatim as an oracle: the streaming joins must write the same bytes, and the joins bench
 * measures old against new in one run. Not used by the service.
 */
import type { Preset } from '../../../src/media/presets.ts';
import { segmentCodec } from '../../../src/media/segments/codec-frames.ts';
import { joinWav } from '../../../src/media/segments/join-wav.ts';
import type { Segment } from '../../../src/media/segments/plan.ts';
import { joinAac } from './join-aac.ts';
import { joinFlac } from './join-flac.ts';
import { joinMp3 } from './join-mp3.ts';
import { joinOpus } from './join-opus.ts';

export async function legacyJoinSegments(preset: Preset, segments: readonly Segment[], paths: readonly string[], outPath: string, ffmpegPath?: string): Promise<void> {
  switch (segmentCodec(preset)?.joiner) {
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
      throw new Error(`preset ${preset.id} has no join`);
  }
}
