import { stat } from 'node:fs/promises';
import { formatBytes, formatClock } from '../format.ts';
import { runtimeCeilingMs } from './limits.ts';
import { MediaError, type MediaLimits } from './types.ts';

/**
 * Enforces a job's limits while ffmpeg runs. The checks before the job trust the container's
 * duration, which can lie (a header saying 1 s over ten hours of data), so here the truth is
 * what ffmpeg reports (out_time) and what it has written (file sizes). Checked on every progress
 * report (twice a second), so the overshoot is at most half a second of ffmpeg's writing.
 */
export class RunGuard {
  private measuring = false;

  constructor(
    private readonly limits: MediaLimits,
    /** Every file ffmpeg writes for the job: outputs and peaks. */
    private readonly paths: readonly string[],
    /** The length the container claimed, to say so when it was wrong. */
    private readonly claimedMs: number,
  ) {}

  /** A failure once ffmpeg has produced more audio than any accepted input can hold. */
  checkTime(outTimeMs: number): MediaError | undefined {
    if (outTimeMs <= runtimeCeilingMs(this.limits)) return undefined;
    const limit = formatClock(this.limits.maxInputSeconds);
    return new MediaError(
      'too_long',
      `This recording runs past ${limit}, the longest this server accepts, although the file says it lasts ${formatClock(Math.ceil(this.claimedMs / 1000))}; it was stopped.`,
      { limitSeconds: this.limits.maxInputSeconds, seconds: Math.floor(outTimeMs / 1000) },
    );
  }

  /**
   * Sums the sizes written so far; a failure when past the cap. Skipped (undefined) while an
   * earlier measurement is still running, so a slow disk never piles up stat calls.
   */
  async checkBytes(): Promise<MediaError | undefined> {
    if (this.measuring) return undefined;
    this.measuring = true;
    try {
      return this.verdict(await this.written());
    } finally {
      this.measuring = false;
    }
  }

  /** The final word once ffmpeg has exited: a run shorter than one report interval is measured too. */
  async checkFinal(outTimeMs: number): Promise<MediaError | undefined> {
    return this.checkTime(outTimeMs) ?? this.verdict(await this.written());
  }

  private verdict(bytes: number): MediaError | undefined {
    if (bytes <= this.limits.maxOutputBytes) return undefined;
    return new MediaError(
      'too_large',
      `The outputs grew past ${formatBytes(this.limits.maxOutputBytes)}, the most this server allows per file, so the transcode was stopped.`,
      { limitBytes: this.limits.maxOutputBytes, writtenBytes: bytes },
    );
  }

  /** Bytes on disk in the job's files; one not yet created counts as empty. */
  async written(): Promise<number> {
    const sizes = await Promise.all(this.paths.map((p) => stat(p).then((s) => s.size, () => 0)));
    return sizes.reduce((a, b) => a + b, 0);
  }
}
