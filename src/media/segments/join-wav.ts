import { open, type FileHandle } from 'node:fs/promises';
import type { Segment } from './plan.ts';

interface WavParts {
  /** Everything before the data chunk's header (RIFF header, fmt, LIST INFO tags). */
  head: Buffer;
  dataAt: number;
  dataSize: number;
  blockAlign: number;
}

async function readExactly(file: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  if (bytesRead !== length) throw new Error('WAV segment ends inside a chunk header');
  return buffer;
}

/** Walks a WAV file's chunks up to its data chunk, reading only headers and small chunks. */
async function readWav(file: FileHandle): Promise<WavParts> {
  const riff = await readExactly(file, 12, 0);
  if (riff.toString('latin1', 0, 4) !== 'RIFF' || riff.toString('latin1', 8, 12) !== 'WAVE') throw new Error('not a RIFF WAVE file');
  const { size: fileSize } = await file.stat();
  const parts: Buffer[] = [riff];
  let blockAlign = 0;
  for (let at = 12; at + 8 <= fileSize; ) {
    const header = await readExactly(file, 8, at);
    const id = header.toString('latin1', 0, 4);
    const size = header.readUInt32LE(4);
    if (id === 'data') {
      if (at + 8 + size + (size % 2) < fileSize) throw new Error('WAV segment has chunks after its data');
      if (blockAlign === 0) throw new Error('WAV segment has no fmt chunk before its data');
      return { head: Buffer.concat(parts), dataAt: at + 8, dataSize: size, blockAlign };
    }
    const body = await readExactly(file, size + (size % 2), at + 8);
    if (id === 'fmt ') blockAlign = body.readUInt16LE(12);
    parts.push(header, body);
    at += 8 + size + (size % 2);
  }
  throw new Error('WAV segment has no data chunk');
}

const COPY_CHUNK = 4 * 1024 * 1024;

/**
 * Joins WAV segments: the first segment's chunks (format and tags, as a one-pass output has
 * them), then one data chunk with every segment's samples, with the RIFF and data sizes written
 * for the whole. PCM segments never overlap, so nothing is dropped. Samples are copied in
 * pieces, never held whole in memory.
 */
export async function joinWav(segments: readonly Segment[], paths: readonly string[], outPath: string): Promise<void> {
  const inputs = await Promise.all(paths.map((p) => open(p, 'r')));
  try {
    const parts = await Promise.all(inputs.map(readWav));
    parts.forEach((part, i) => {
      const planned = segments[i]!.keepFrames;
      const frames = part.dataSize / part.blockAlign;
      if (planned !== undefined && frames !== planned) throw new Error(`WAV segment ${i} has ${frames} samples where ${planned} were planned`);
    });
    const first = parts[0]!;
    const dataSize = parts.reduce((sum, p) => sum + p.dataSize, 0);
    const riffSize = first.head.length - 8 + 8 + dataSize + (dataSize % 2);
    if (riffSize > 0xffffffff) throw new Error('joined WAV is too large for RIFF sizes');
    const head = Buffer.from(first.head);
    head.writeUInt32LE(riffSize, 4);
    const dataHead = Buffer.alloc(8);
    dataHead.write('data', 0, 'latin1');
    dataHead.writeUInt32LE(dataSize, 4);
    const out = await open(outPath, 'w');
    try {
      await out.write(Buffer.concat([head, dataHead]));
      const buffer = Buffer.alloc(COPY_CHUNK);
      for (const [i, part] of parts.entries()) {
        for (let done = 0; done < part.dataSize; ) {
          const { bytesRead } = await inputs[i]!.read(buffer, 0, Math.min(COPY_CHUNK, part.dataSize - done), part.dataAt + done);
          if (bytesRead === 0) throw new Error(`WAV segment ${i} is shorter than its data chunk says`);
          await out.write(buffer.subarray(0, bytesRead));
          done += bytesRead;
        }
      }
      if (dataSize % 2) await out.write(Buffer.alloc(1));
    } finally {
      await out.close();
    }
  } finally {
    await Promise.all(inputs.map((f) => f.close()));
  }
}
