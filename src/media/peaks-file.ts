import { open } from 'node:fs/promises';
import { PeakAccumulator } from './waveform.ts';

export const PEAKS_CHUNK_BYTES = 64 * 1024;

/**
 * Waveform bars from a peaks file, read in fixed-size chunks through one buffer: memory stays
 * the same for a minute or four hours of audio. `onChunk` lets tests see the reads.
 */
export async function peaksFromFile(
  file: string,
  bars: number,
  opts: { chunkBytes?: number; onChunk?: (bytes: number) => void } = {},
): Promise<number[]> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const peaks = new PeakAccumulator(size, bars);
    const buffer = Buffer.alloc(Math.max(1, Math.min(opts.chunkBytes ?? PEAKS_CHUNK_BYTES, size)));
    for (let position = 0; position < size; ) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position);
      if (bytesRead === 0) break;
      peaks.push(buffer.subarray(0, bytesRead));
      opts.onChunk?.(bytesRead);
      position += bytesRead;
    }
    return peaks.finish();
  } finally {
    await handle.close();
  }
}
