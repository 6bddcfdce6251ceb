/**
 * Where a stretch of a bench's CPU went, by kind of process: every process on the machine is read
 * from /proc before and after, and the difference is summed per label (the workers' Node, the
 * ffmpeg they ran and reaped, s3rver, PostgreSQL, the web process, the bench itself). On a 2-core
 * machine with the store and the database beside the encoders, this shows what the split costs
 * beyond the encodes themselves.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readCpuMs } from './util.ts';

interface ProcCpu {
  label: string;
  own: number;
  /** CPU of children this process waited for (ffmpeg for a worker). */
  reaped: number;
}

export type CpuSnapshot = Map<number, ProcCpu>;

/** A readable name for a process from its command line; undefined for what is none of ours. */
function labelOf(pid: number): string | undefined {
  let cmd: string;
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
  if (cmd.includes('scale-s3.ts')) return 's3rver';
  if (cmd.includes('src/main.ts worker')) return 'worker (Node)';
  if (cmd.includes('src/main.ts')) return 'web (Node)';
  if (cmd.includes('bench/run.ts')) return 'bench (Node)';
  if (/\bpostgres\b/.test(cmd)) return 'PostgreSQL';
  if (/\bffmpeg\b/.test(cmd)) return 'ffmpeg (running)';
  return undefined;
}

export function cpuSnapshot(): CpuSnapshot {
  const snap: CpuSnapshot = new Map();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const label = labelOf(pid);
    if (!label) continue;
    try {
      const { own, children } = readCpuMs(pid);
      snap.set(pid, { label, own, reaped: children });
    } catch {
      // Gone between the listing and the read.
    }
  }
  return snap;
}

/**
 * CPU ms per label between two snapshots. A process that ended in between is not counted (its
 * time is in its parent's reaped figure if the parent is ours); the workers' reaped children are
 * their ffmpeg and ffprobe runs, reported as "ffmpeg (by workers)".
 */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (label: string, ms: number) => {
    if (ms > 0) out[label] = (out[label] ?? 0) + ms;
  };
  for (const [pid, now] of after) {
    const then = before.get(pid);
    const same = then && then.label === now.label;
    add(now.label, now.own - (same ? then.own : 0));
    const reaped = now.reaped - (same ? then.reaped : 0);
    add(now.label === 'worker (Node)' ? 'ffmpeg (by workers)' : `${now.label}, reaped children`, reaped);
  }
  return out;
}

/** "label 12.3 s, …", largest first, and the total. */
export function describeCpu(byLabel: Record<string, number>): string {
  const entries = Object.entries(byLabel).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((sum, [, ms]) => sum + ms, 0);
  return `${entries.map(([label, ms]) => `${label} ${(ms / 1000).toFixed(1)} s`).join(', ')}; total ${(total / 1000).toFixed(1)} s`;
}
