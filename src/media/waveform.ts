export const WAVEFORM_BARS = 240;

/**
 * Splits unsigned 8-bit samples (128 = silence) into `bars` slices and keeps each one's peak,
 * scaled so the loudest slice is 100: quiet recordings still show their shape.
 */
export function computePeaks(samples: Uint8Array, bars: number): number[] {
  if (samples.length === 0) return [];
  const count = Math.min(bars, samples.length);
  const peaks: number[] = [];
  for (let b = 0; b < count; b++) {
    const start = Math.floor((b * samples.length) / count);
    const end = Math.floor(((b + 1) * samples.length) / count);
    let peak = 0;
    for (let i = start; i < end; i++) peak = Math.max(peak, Math.abs((samples[i] ?? 128) - 128));
    peaks.push(peak);
  }
  const loudest = Math.max(1, ...peaks);
  return peaks.map((p) => Math.round((p / loudest) * 100));
}

/**
 * computePeaks over bytes that arrive in chunks, in constant memory: the peaks file grows by
 * 4 KB per second of audio (57 MB for four hours), so it is never held whole. Needs the total
 * length up front (a stat) to place the slice boundaries exactly where computePeaks puts them.
 */
export class PeakAccumulator {
  private readonly count: number;
  private readonly peaks: number[] = [];
  private bar = 0;
  private barEnd: number;
  private peak = 0;
  private index = 0;

  constructor(
    private readonly length: number,
    bars: number,
  ) {
    this.count = Math.min(bars, length);
    this.barEnd = this.boundary(1);
  }

  /** Where slice `b` starts, as computePeaks computes it. */
  private boundary(b: number): number {
    return this.count > 0 ? Math.floor((b * this.length) / this.count) : 0;
  }

  private closeBar(): void {
    this.peaks.push(this.peak);
    this.peak = 0;
    this.bar++;
    this.barEnd = this.boundary(this.bar + 1);
  }

  push(chunk: Uint8Array): void {
    // Bytes beyond the stated length are ignored, as they would be outside computePeaks' buffer.
    const usable = Math.min(chunk.length, this.length - this.index);
    for (let j = 0; j < usable; j++, this.index++) {
      while (this.index >= this.barEnd && this.bar < this.count) this.closeBar();
      this.peak = Math.max(this.peak, Math.abs((chunk[j] ?? 128) - 128));
    }
  }

  finish(): number[] {
    if (this.length === 0) return [];
    // The last slice, and any a short read never reached (those stay silent).
    while (this.bar < this.count) this.closeBar();
    const loudest = Math.max(1, ...this.peaks);
    return this.peaks.map((p) => Math.round((p / loudest) * 100));
  }
}

/** The bars as SVG rectangles (attributes only: the page's CSP allows no inline styles). */
export function waveformSvg(peaks: readonly number[], width = 960, height = 120): string {
  if (peaks.length === 0) return '';
  const step = width / peaks.length;
  const bar = Math.max(1, step * 0.7);
  const rects = peaks
    .map((p, i) => {
      const h = Math.max(1, (p / 100) * height);
      return `<rect x="${(i * step).toFixed(1)}" y="${((height - h) / 2).toFixed(1)}" width="${bar.toFixed(1)}" height="${h.toFixed(1)}" rx="1"/>`;
    })
    .join('');
  return `<svg class="waveform" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="Waveform of the audio" xmlns="http://www.w3.org/2000/svg"><g fill="currentColor">${rects}</g></svg>`;
}
