import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
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

/** Rejects with `what timed out` if the promise has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A free loopback port (the kernel picks one; the tiny race with other programs is acceptable here). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** Runs a program to completion; resolves with its wall time in ms, rejects on a non-zero exit. */
export function timeProcess(cmd: string, args: readonly string[], timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.resume(); // ffmpeg's -progress pipe:1 output, drained as the service drains it
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4096)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      const elapsed = performance.now() - started;
      clearTimeout(timer);
      if (code === 0) resolve(elapsed);
      else reject(new Error(`${cmd} exited with ${code ?? signal}: ${stderr.trim().slice(-500)}`));
    });
  });
}

/** Resident set size of a process in KiB, from /proc/<pid>/status (VmRSS). */
export function readRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

export interface RssStats {
  peakKiB: number;
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

  constructor(
    private readonly pid: number,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.last = performance.now();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): RssStats {
    clearInterval(this.timer);
    this.sample();
    return { peakKiB: this.peak, samples: this.samples, maxGapMs: round(this.maxGap, 1) };
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

/** A child process we started, with the tail of its output kept for error messages. */
export interface Child {
  readonly pid: number;
  readonly port: number;
  exited(): boolean;
  logTail(): string;
  stop(): Promise<void>;
}

/** Starts a Node child (TypeScript through tsx) and waits until GET /healthz answers 200. */
export async function startNodeChild(
  name: string,
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  port: number,
): Promise<Child> {
  const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString('utf8')).slice(-8192));
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let exitedFlag = false;
  const exitedPromise = new Promise<void>((resolve) => {
    proc.once('exit', () => {
      exitedFlag = true;
      resolve();
    });
  });
  proc.once('error', (err) => (log += `\nspawn error: ${err.message}`));
  const child: Child = {
    pid: proc.pid ?? -1,
    port,
    exited: () => exitedFlag,
    logTail: () => log.trim(),
    async stop() {
      if (exitedFlag) return;
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exitedPromise;
      clearTimeout(killer);
    },
  };
  try {
    await waitHealthy(child, name, 30_000);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return child;
}

async function waitHealthy(child: Child, name: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exited()) throw new Error(`${name} exited during start-up:\n${child.logTail()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${child.port}/healthz`, { signal: AbortSignal.timeout(2_000) });
      const body: unknown = await res.json();
      if (res.status === 200 && isRecord(body) && body.status === 'ok') return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${name} did not become healthy within ${timeoutMs / 1000} s:\n${child.logTail()}`);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
