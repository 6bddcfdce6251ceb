/**
 * Error between two decodes of the same audio, in short windows: what the segment-join suite
 * judges seams by. Samples are interleaved signed 16-bit little-endian PCM.
 */
export interface WindowErrors {
  /** RMS of the difference per window, in dB relative to full scale (−Infinity for none). */
  db: number[];
  windowSamples: number;
}

export function windowErrors(a: Buffer, b: Buffer, channels: number, windowSamples: number): WindowErrors {
  const frames = Math.min(a.length, b.length) / (2 * channels);
  const db: number[] = [];
  for (let start = 0; start + windowSamples <= frames; start += windowSamples) {
    let sum = 0;
    for (let i = start * channels; i < (start + windowSamples) * channels; i++) {
      const d = (a.readInt16LE(i * 2) - b.readInt16LE(i * 2)) / 32768;
      sum += d * d;
    }
    db.push(10 * Math.log10(sum / (windowSamples * channels)));
  }
  return { db, windowSamples };
}

/** Indexes of the windows within `reach` samples of a seam at sample `seam`. */
export function windowsNear(seam: number, reach: number, windowSamples: number, count: number): number[] {
  const from = Math.max(0, Math.floor((seam - reach) / windowSamples));
  const to = Math.min(count - 1, Math.floor((seam + reach) / windowSamples));
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** The value below which `fraction` of the finite values lie. */
export function percentile(values: readonly number[], fraction: number): number {
  const sorted = values.filter(Number.isFinite).sort((x, y) => x - y);
  if (sorted.length === 0) return -Infinity;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}
