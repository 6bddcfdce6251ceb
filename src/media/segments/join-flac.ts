import { open } from 'node:fs/promises';
import { flacFrames, renumberFrame, type FlacFrame } from './flac-frames.ts';
import type { Segment } from './plan.ts';
import { decodedMd5 } from './run-ffmpeg.ts';
import { JoinOutput, withSegments, type SegmentReader } from './segment-file.ts';

const STREAMINFO = 0;
const SEEKTABLE = 3;
/** 'fLaC' and STREAMINFO's block header: where STREAMINFO's body starts in a file that leads with it. */
const STREAMINFO_AT = 4 + 4;
/** STREAMINFO's MD5 comes after 18 bytes of sizes, rate, channels, depth and total samples. */
const MD5_AT = STREAMINFO_AT + 18;

interface MetadataBlock {
  type: number;
  body: Buffer;
}

/** A segment's metadata blocks (copied, when `keep`; only the first segment's are kept) and where its frames start. */
async function readMetadata(reader: SegmentReader, keep: boolean): Promise<{ blocks: MetadataBlock[]; framesAt: number }> {
  if ((await reader.bytes(0, 4)).toString('latin1') !== 'fLaC') throw new Error('not a FLAC stream');
  const blocks: MetadataBlock[] = [];
  let at = 4;
  for (;;) {
    const head = await reader.bytes(at, 4);
    if (head.length < 4) throw new Error('FLAC segment ends inside its metadata');
    const last = (head[0]! & 0x80) !== 0;
    const type = head[0]! & 0x7f;
    const length = head.readUIntBE(1, 3);
    if (keep) blocks.push({ type, body: Buffer.from(await reader.bytes(at + 4, length)) });
    at += 4 + length;
    if (last) return { blocks, framesAt: at };
  }
}

function writeMetadata(blocks: readonly MetadataBlock[]): Buffer {
  const parts: Buffer[] = [Buffer.from('fLaC', 'latin1')];
  blocks.forEach((block, i) => {
    const head = Buffer.alloc(4);
    head[0] = (i === blocks.length - 1 ? 0x80 : 0) | block.type;
    head.writeUIntBE(block.body.length, 1, 3);
    parts.push(head, block.body);
  });
  return Buffer.concat(parts);
}

/** Checks a kept frame against the plan: a surprise is an error, never a seam. */
function checkBlock(segment: Segment, frame: FlacFrame): void {
  if (frame.blockSize !== segment.frameSize || frame.variable) {
    throw new Error(`FLAC segment ${segment.index} has a block that is not ${segment.frameSize} samples`);
  }
}

/** STREAMINFO for the whole: smallest and largest frame, total samples; the MD5 zeroed until it is known. */
function wholeStreaminfo(body: Buffer, minFrame: number, maxFrame: number, total: number): Buffer {
  const info = Buffer.from(body);
  info.writeUIntBE(minFrame, 4, 3);
  info.writeUIntBE(maxFrame, 7, 3);
  // 36 bits of total samples: the low nibble of byte 13 and bytes 14–17.
  info[13] = (info[13]! & 0xf0) | Math.floor(total / 2 ** 32);
  info.writeUInt32BE(total % 2 ** 32, 14);
  info.fill(0, 18, 34);
  return info;
}

/**
 * Joins FLAC segments: the first segment's metadata (tags, picture, padding) with its
 * STREAMINFO rewritten for the whole (total samples, smallest and largest frame, MD5 of the
 * decoded audio), then every segment's frames renumbered from zero with fresh CRCs, so that
 * seeking by frame number lands where it should. Any SEEKTABLE of the first segment would point
 * into that segment alone and is dropped.
 *
 * Frames stream from the segments to the output; STREAMINFO keeps its size, so it is written as
 * the first segment has it and overwritten once the totals are known, and its MD5 after that,
 * once ffmpeg has decoded the joined file (in its own process). Memory: the windows, the output
 * buffer and the first segment's metadata.
 */
export async function joinFlac(segments: readonly Segment[], paths: readonly string[], outPath: string, ffmpegPath?: string): Promise<void> {
  let bits = 0;
  await withSegments(paths, (readers) =>
    JoinOutput.writeFile(outPath, async (out) => {
      const first = await readMetadata(readers[0]!, true);
      const streaminfo = first.blocks.find((b) => b.type === STREAMINFO);
      if (!streaminfo) throw new Error('FLAC segment has no STREAMINFO');
      bits = (((streaminfo.body[12]! & 1) << 4) | (streaminfo.body[13]! >> 4)) + 1;
      if (bits !== 16 && bits !== 24) throw new Error(`FLAC join handles 16 and 24 bits, not ${bits}`);
      const blocks = first.blocks.filter((b) => b.type !== SEEKTABLE);
      if (blocks[0]?.type !== STREAMINFO) throw new Error('STREAMINFO is not the first FLAC block');
      await out.write(writeMetadata(blocks));

      let number = 0;
      let total = 0;
      let minFrame = Infinity;
      let maxFrame = -Infinity;
      for (const [i, reader] of readers.entries()) {
        const segment = segments[i]!;
        const { framesAt } = i === 0 ? first : await readMetadata(reader, false);
        const keepUntil = segment.keepFrames === undefined ? Infinity : segment.skipFrames + segment.keepFrames;
        let index = 0;
        let kept = 0;
        // The last segment's last frame may be short; every other kept frame must be a full block.
        let unchecked: FlacFrame | undefined;
        for await (const frame of flacFrames(reader, framesAt)) {
          if (index >= segment.skipFrames && index < keepUntil) {
            if (unchecked) checkBlock(segment, unchecked);
            unchecked = frame;
            if (segment.keepFrames !== undefined) checkBlock(segment, frame);
            const renumbered = renumberFrame(frame, number++);
            minFrame = Math.min(minFrame, renumbered.length);
            maxFrame = Math.max(maxFrame, renumbered.length);
            total += frame.blockSize;
            kept++;
            await out.write(renumbered);
          }
          index++;
        }
        if (segment.keepFrames !== undefined && kept !== segment.keepFrames) {
          throw new Error(`FLAC segment ${segment.index} has ${kept} frames where ${segment.keepFrames} were planned`);
        }
      }
      await out.patch(STREAMINFO_AT, wholeStreaminfo(streaminfo.body, minFrame, maxFrame, total));
    }),
  );
  // The MD5 is of the decoded samples, so it is written once the frames are in place.
  const md5 = await decodedMd5(outPath, bits as 16 | 24, ffmpegPath);
  const file = await open(outPath, 'r+');
  try {
    await file.write(md5, 0, 16, MD5_AT);
  } finally {
    await file.close();
  }
}
