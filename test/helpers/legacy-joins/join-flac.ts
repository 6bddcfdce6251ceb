import { open, readFile, writeFile } from 'node:fs/promises';
import { readFlacFrames, renumberFrame, type FlacFrame } from './flac-frames.ts';
import type { Segment } from '../../../src/media/segments/plan.ts';
import { decodedMd5 } from '../../../src/media/segments/run-ffmpeg.ts';

const STREAMINFO = 0;
const SEEKTABLE = 3;

interface MetadataBlock {
  type: number;
  body: Buffer;
}

function readMetadata(data: Buffer): { blocks: MetadataBlock[]; framesAt: number } {
  if (data.toString('latin1', 0, 4) !== 'fLaC') throw new Error('not a FLAC stream');
  const blocks: MetadataBlock[] = [];
  let at = 4;
  for (;;) {
    const last = (data[at]! & 0x80) !== 0;
    const type = data[at]! & 0x7f;
    const length = data.readUIntBE(at + 1, 3);
    blocks.push({ type, body: data.subarray(at + 4, at + 4 + length) });
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

/** The frames a segment contributes, checked against its plan: a surprise is an error, never a seam. */
function keptFrames(segment: Segment, frames: FlacFrame[]): FlacFrame[] {
  const kept = frames.slice(segment.skipFrames, segment.keepFrames === undefined ? undefined : segment.skipFrames + segment.keepFrames);
  const full = segment.keepFrames === undefined ? kept.slice(0, -1) : kept;
  if (segment.keepFrames !== undefined && kept.length !== segment.keepFrames) {
    throw new Error(`FLAC segment ${segment.index} has ${kept.length} frames where ${segment.keepFrames} were planned`);
  }
  if (full.some((f) => f.blockSize !== segment.frameSize || f.variable)) {
    throw new Error(`FLAC segment ${segment.index} has a block that is not ${segment.frameSize} samples`);
  }
  return kept;
}

/**
 * Joins FLAC segments: the first segment's metadata (tags, picture, padding) with its
 * STREAMINFO rewritten for the whole (total samples, smallest and largest frame, MD5 of the
 * decoded audio), then every segment's frames renumbered from zero with fresh CRCs, so that
 * seeking by frame number lands where it should. Any SEEKTABLE of the first segment would point
 * into that segment alone and is dropped.
 */
export async function joinFlac(segments: readonly Segment[], paths: readonly string[], outPath: string, ffmpegPath?: string): Promise<void> {
  const files = await Promise.all(paths.map((p) => readFile(p)));
  const first = readMetadata(files[0]!);
  const frames: FlacFrame[] = [];
  files.forEach((file, i) => {
    const segment = segments[i]!;
    frames.push(...keptFrames(segment, readFlacFrames(file, readMetadata(file).framesAt)));
  });
  const audio = frames.map((frame, i) => renumberFrame(frame, i));
  const total = frames.reduce((sum, f) => sum + f.blockSize, 0);

  const streaminfoBlock = first.blocks.find((b) => b.type === STREAMINFO);
  if (!streaminfoBlock) throw new Error('FLAC segment has no STREAMINFO');
  const info = Buffer.from(streaminfoBlock.body);
  const sizes = audio.map((f) => f.length);
  info.writeUIntBE(Math.min(...sizes), 4, 3);
  info.writeUIntBE(Math.max(...sizes), 7, 3);
  // 36 bits of total samples: the low nibble of byte 13 and bytes 14–17.
  info[13] = (info[13]! & 0xf0) | Math.floor(total / 2 ** 32);
  info.writeUInt32BE(total % 2 ** 32, 14);
  const bits = (((info[12]! & 1) << 4) | (info[13]! >> 4)) + 1;
  if (bits !== 16 && bits !== 24) throw new Error(`FLAC join handles 16 and 24 bits, not ${bits}`);
  info.fill(0, 18, 34);
  const blocks = first.blocks.filter((b) => b.type !== SEEKTABLE).map((b) => (b.type === STREAMINFO ? { type: b.type, body: info } : b));

  await writeFile(outPath, Buffer.concat([writeMetadata(blocks), ...audio]));
  // The MD5 is of the decoded samples, so it is written once the frames are in place.
  const md5 = await decodedMd5(outPath, bits, ffmpegPath);
  if (blocks[0]?.type !== STREAMINFO) throw new Error('STREAMINFO is not the first FLAC block');
  const file = await open(outPath, 'r+');
  try {
    // 'fLaC', the block header, then 18 bytes of STREAMINFO before the MD5.
    await file.write(md5, 0, 16, 4 + 4 + 18);
  } finally {
    await file.close();
  }
}
