/**
 * Reads ffmpeg's `-progress` key=value stream and reports whole percent changes. The stream ends
 * each block with `progress=continue` or `progress=end`.
 */
export class ProgressParser {
  private buffer = '';
  private lastPercent = -1;
  /** The output time ffmpeg last reported: at the end, how long the outputs really are. */
  outTimeMs = 0;

  constructor(
    private readonly durationMs: number,
    private readonly onProgress: (percent: number) => void,
  ) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      this.line(line);
    }
  }

  private line(line: string): void {
    const eq = line.indexOf('=');
    if (eq < 0) return;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'out_time_us' || key === 'out_time_ms') {
      // Both keys carry microseconds (out_time_ms is misnamed in ffmpeg); "N/A" before the first frame.
      const us = Number(value);
      if (!Number.isFinite(us)) return;
      this.outTimeMs = Math.max(this.outTimeMs, us / 1000);
      if (this.durationMs > 0) this.report((us / 1000 / this.durationMs) * 100);
    } else if (key === 'progress' && value === 'end') {
      this.report(100);
    }
  }

  private report(raw: number): void {
    const percent = Math.max(0, Math.min(100, Math.floor(raw)));
    if (percent === this.lastPercent) return;
    this.lastPercent = percent;
    this.onProgress(percent);
  }
}
