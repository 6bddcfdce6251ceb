/**
 * Where the CPU went during a batch: per process tree (a worker and its ffmpeg, the web process,
 * s3rver, PostgreSQL) and for the whole machine, from /proc. Shows whether the workers had the
 * cores to themselves or shared them with the rest of the deployment on the same machine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { readCpuMs } from './util.ts';

/** CPU (ms) of a process, of the children it has reaped, and of its live descendants. */
export function treeCpuMs(pid: number): number {
  try {
    const { own, children } = readCpuMs(pid);
    const live = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    const kids = live ? live.split(' ').map(Number) : [];
    return own + children + kids.reduce((sum, kid) => sum + treeCpuMs(kid), 0);
  } catch {
    return 0; // gone
  }
}

/**
 * CPU time (ms) of the whole machine, summed over its cores: busy in this VM, and stolen (the
 * hypervisor ran something else on a core this VM wanted).
 */
export function machineMs(): { busy: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal …; counted in USER_HZ, 100 a second on Linux.
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number) => (f[i] ?? 0) * 10;
  return { busy: at(0) + at(1) + at(2) + at(5) + at(6), steal: at(7) };
}

/** The PostgreSQL postmaster listening on `port` (found by its command line), if any. */
export function postmasterPid(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const at = argv.indexOf('-p');
      if (argv[0]?.endsWith('/postgres') && at > 0 && argv[at + 1] === String(port)) return Number(entry);
    } catch {
      // exited while we looked
    }
  }
  return undefined;
}

/** Named groups of process trees; `start()` then `stop()` gives each group's CPU in cores busy. */
export class CpuMeter {
  private before = new Map<string, number>();
  private startedAt = 0;

  constructor(private readonly groups: Readonly<Record<string, () => readonly number[]>>) {}

  private snapshot(): Map<string, number> {
    const snap = new Map<string, number>();
    for (const [name, pids] of Object.entries(this.groups)) snap.set(name, pids().reduce((sum, pid) => sum + treeCpuMs(pid), 0));
    snap.set('bench', readCpuMs('self').own);
    const machine = machineMs();
    snap.set('machine', machine.busy);
    snap.set('steal', machine.steal);
    return snap;
  }

  start(): void {
    this.before = this.snapshot();
    this.startedAt = performance.now();
  }

  /**
   * Cores busy per group since start(); `machine` (all busy in this VM), `other` (the machine minus
   * every group named) and `steal` (cores the hypervisor took away).
   */
  stop(): Record<string, number> {
    const after = this.snapshot();
    const wallMs = performance.now() - this.startedAt;
    const cores: Record<string, number> = {};
    for (const [name, value] of after) cores[name] = Math.round(((value - (this.before.get(name) ?? 0)) / wallMs) * 100) / 100;
    const named = Object.entries(cores).filter(([name]) => name !== 'machine' && name !== 'steal').reduce((sum, [, v]) => sum + v, 0);
    cores.other = Math.round(((cores.machine ?? 0) - named) * 100) / 100;
    return cores;
  }
}
