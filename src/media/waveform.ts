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
