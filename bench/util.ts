import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export { sleep };

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const MiB = 1024 * 1024;

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Milliseconds per clock tick, the unit of CPU times in /proc/<pid>/stat. */
const tickMs = (() => {
  try {
    return 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  } catch {
    return 10;
  }
})();

/** CPU time in ms from /proc/<pid>/stat: the process's own, and that of its children it has reaped. */
export function readCpuMs(pid: number | 'self'): { own: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm) ": state is [0], utime [11], stime [12], cutime [13], cstime [14].
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  const at = (i: number) => fields[i] ?? 0;
  return { own: (at(11) + at(12)) * tickMs, children: (at(13) + at(14)) * tickMs };
}

/** A field of /proc/<pid>/status in KiB: VmRSS (resident now) or VmHWM (peak resident). */
export function readStatusKiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  if (!match?.[1]) throw new Error(`no ${field} for pid ${pid}`);
  return Number(match[1]);
}

export const readRssKiB = (pid: number) => readStatusKiB(pid, 'VmRSS');

/** Resets the kernel's peak-RSS mark (VmHWM) to the current RSS; false where that is not allowed. */
function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface RssStats {
  /** The highest of the 20 ms samples. */
  peakKiB: number;
  /** The kernel's own peak (VmHWM) since start(), which no sampling gap can miss; null if unavailable. */
  kernelPeakKiB: number | null;
  samples: number;
  /** The longest gap between two samples: shows whether the sampler kept its 20 ms pace. */
  maxGapMs: number;
}

/** Samples a process's RSS on a fixed interval and keeps the peak. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private peak = 0;
  private samples = 0;
  private last = 0;
  private maxGap = 0;
  private hwmReset = false;

  constructor(
    private readonly pid: number,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.hwmReset = resetPeakRss(this.pid);
    this.last = performance.now();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): RssStats {
    clearInterval(this.timer);
    this.sample();
    let kernelPeakKiB: number | null = null;
    try {
      if (this.hwmReset) kernelPeakKiB = readStatusKiB(this.pid, 'VmHWM');
    } catch {
      // process gone
    }
    return { peakKiB: this.peak, kernelPeakKiB, samples: this.samples, maxGapMs: round(this.maxGap, 1) };
  }

  private sample(): void {
    const now = performance.now();
    this.maxGap = Math.max(this.maxGap, now - this.last);
    this.last = now;
    try {
      this.peak = Math.max(this.peak, readRssKiB(this.pid));
      this.samples += 1;
    } catch {
      // The process is gone; the caller notices through its own requests failing.
    }
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
