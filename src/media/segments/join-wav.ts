import { readFile, writeFile } from 'node:fs/promises';
import type { Segment } from './plan.ts';

interface WavParts {
  /** Everything before the data chunk's header (RIFF header, fmt, LIST INFO tags). */
  head: Buffer;
  data: Buffer;
  blockAlign: number;
}

function readWav(wav: Buffer): WavParts {
  if (wav.toString('latin1', 0, 4) !== 'RIFF' || wav.toString('latin1', 8, 12) !== 'WAVE') throw new Error('not a RIFF WAVE file');
  let blockAlign = 0;
  for (let at = 12; at + 8 <= wav.length; ) {
    const id = wav.toString('latin1', at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    if (id === 'fmt ') blockAlign = wav.readUInt16LE(at + 8 + 12);
    if (id === 'data') {
      if (at + 8 + size + (size % 2) < wav.length) throw new Error('WAV segment has chunks after its data');
      return { head: wav.subarray(0, at), data: wav.subarray(at + 8, at + 8 + size), blockAlign };
    }
    at += 8 + size + (size % 2);
  }
  throw new Error('WAV segment has no data chunk');
}

/**
 * Joins WAV segments: the first segment's chunks (format and tags, as a one-pass output has
 * them), then one data chunk with every segment's samples, with the RIFF and data sizes written
 * for the whole. PCM segments never overlap, so nothing is dropped.
 */
export async function joinWav(segments: readonly Segment[], paths: readonly string[], outPath: string): Promise<void> {
  const parts = await Promise.all(paths.map(async (p) => readWav(await readFile(p))));
  const first = parts[0]!;
  parts.forEach((part, i) => {
    const segment = segments[i]!;
    const frames = part.data.length / part.blockAlign;
    if (segment.keepFrames !== undefined && frames !== segment.keepFrames) {
      throw new Error(`WAV segment ${i} has ${frames} samples where ${segment.keepFrames} were planned`);
    }
  });
  const dataSize = parts.reduce((sum, p) => sum + p.data.length, 0);
  const riffSize = first.head.length - 8 + 8 + dataSize + (dataSize % 2);
  if (riffSize > 0xffffffff) throw new Error('joined WAV is too large for RIFF sizes');
  const head = Buffer.from(first.head);
  head.writeUInt32LE(riffSize, 4);
  const dataHead = Buffer.alloc(8);
  dataHead.write('data', 0, 'latin1');
  dataHead.writeUInt32LE(dataSize, 4);
  const pad = dataSize % 2 ? [Buffer.alloc(1)] : [];
  await writeFile(outPath, Buffer.concat([head, dataHead, ...parts.map((p) => p.data), ...pad]));
}
