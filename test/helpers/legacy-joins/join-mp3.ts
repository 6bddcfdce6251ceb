import { readFile, writeFile } from 'node:fs/promises';
import { id3v2Length, readMp3Frames } from '../../../src/media/segments/mp3-frames.ts';
import type { Segment } from '../../../src/media/segments/plan.ts';
import { rewriteXingFrame, xingPadding } from './xing-header.ts';

interface Mp3Segment {
  head: Buffer;
  xing: Buffer;
  frames: Buffer[];
}

function readSegment(data: Buffer): Mp3Segment {
  const start = id3v2Length(data);
  const [xing, ...frames] = readMp3Frames(data, start).map((f) => data.subarray(f.at, f.at + f.length));
  if (!xing) throw new Error('MP3 segment has no frames');
  return { head: data.subarray(0, start), xing, frames };
}

/**
 * Joins MP3 segments encoded without the bit reservoir: each frame decodes on its own, so
 * frames can be taken from different encodes. Each segment gives the frames of its own samples
 * (its pre-roll frames dropped, its post-roll ones too), and the first segment's ID3 tag and
 * Xing/LAME header, rewritten for the whole, lead the file. Segment boundaries are multiples of
 * 1152 samples and every segment has the same encoder delay, so a segment's frame n holds what
 * the one-pass encode's frame at that place holds. The whole's end padding is the last segment's.
 */
export async function joinMp3(segments: readonly Segment[], paths: readonly string[], outPath: string): Promise<void> {
  const parts = await Promise.all(paths.map(async (p) => readSegment(await readFile(p))));
  const audio: Buffer[] = [];
  parts.forEach((part, i) => {
    const segment = segments[i]!;
    const kept = part.frames.slice(segment.skipFrames, segment.keepFrames === undefined ? undefined : segment.skipFrames + segment.keepFrames);
    if (segment.keepFrames !== undefined && kept.length !== segment.keepFrames) {
      throw new Error(`MP3 segment ${i} has ${kept.length} frames where ${segment.keepFrames} were planned`);
    }
    audio.push(...kept);
  });
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const xing = rewriteXingFrame(first.xing, audio, xingPadding(last.xing));
  await writeFile(outPath, Buffer.concat([first.head, xing, ...audio]));
}
