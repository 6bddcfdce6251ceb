import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { readCpuMs, repoRoot, isRecord, sleep } from './util.ts';

/** Every child process still running, so that an interrupted bench can end them. */
const live = new Set<ChildProcess>();

export function track(proc: ChildProcess): void {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
}

/** SIGKILLs the children this bench started and that are still running (on interrupt). */
export function killLiveChildren(): void {
  for (const proc of live) proc.kill('SIGKILL');
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

export interface Timed {
  wallMs: number;
  /** CPU time (user + system) the program used: steadier than wall time on a busy machine. */
  cpuMs: number;
}

/** Runs a program to completion and times it; rejects on a non-zero exit. */
export function timeProcess(cmd: string, args: readonly string[], timeoutMs: number): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const cpuBefore = readCpuMs('self').children;
    const started = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let stderr = '';
    child.stdout.resume(); // ffmpeg's -progress pipe:1 output, drained as the service drains it
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4096)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - started;
      // The child has been reaped, so its CPU time is now in our cutime/cstime.
      const cpuMs = readCpuMs('self').children - cpuBefore;
      clearTimeout(timer);
      if (code === 0) resolve({ wallMs, cpuMs });
      else reject(new Error(`${cmd} exited with ${code ?? signal}: ${stderr.trim().slice(-500)}`));
    });
  });
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
  opts: { logFile?: string } = {},
): Promise<Child> {
  const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(proc);
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString('utf8')).slice(-8192));
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  // BENCH_CHILD_LOG keeps a child's whole log for looking at where a run's time went.
  // opts.logFile does the same for a bench that reads the log back (the segmented benches' part costs).
  const whole = process.env.BENCH_CHILD_LOG;
  const logFiles = [...(whole ? [`${whole}.${name.replace(/[^\w.-]+/g, '_')}.log`] : []), ...(opts.logFile ? [opts.logFile] : [])];
  for (const logFile of logFiles) {
    const file = createWriteStream(logFile, { flags: 'a' });
    proc.stdout?.pipe(file, { end: false });
    proc.stderr?.pipe(file, { end: false });
  }
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


export interface ChildSpan {
  pid: number;
  /** The program's name (comm) as last seen; a fresh child shows "node" until it has exec'd. */
  name: string;
  startedAt: number;
  endedAt: number | undefined;
}

/**
 * Watches a process's direct children through /proc, so the service's time can be split into
 * job pickup, its ffmpeg run and the work after it. Spans are as precise as the interval.
 */
export class ChildWatcher {
  private timer: NodeJS.Timeout | undefined;
  private readonly spans = new Map<number, ChildSpan>();

  constructor(
    private readonly pid: number,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  stop(): ChildSpan[] {
    clearInterval(this.timer);
    this.tick();
    return [...this.spans.values()];
  }

  private tick(): void {
    const now = performance.now();
    let pids: number[] = [];
    try {
      const text = readFileSync(`/proc/${this.pid}/task/${this.pid}/children`, 'utf8').trim();
      pids = text ? text.split(' ').map(Number) : [];
    } catch {
      // the watched process is gone
    }
    for (const pid of pids) {
      const span = this.spans.get(pid) ?? { pid, name: 'node', startedAt: now, endedAt: undefined };
      try {
        span.name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        // exited between the two reads
      }
      this.spans.set(pid, span);
    }
    for (const span of this.spans.values()) if (span.endedAt === undefined && !pids.includes(span.pid)) span.endedAt = now;
  }
}

/**
 * User and system CPU seconds and the wall seconds of one ffmpeg run, from /usr/bin/time (CPU
 * time is steadier than wall time on this shared machine); `stdin` is piped in when given.
 */
export function ffmpegCpu(args: string[], stdin?: Readable): Promise<{ cpu: number; wall: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%U %S %e', 'ffmpeg', ...args], { stdio: [stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    if (stdin && child.stdin) {
      child.stdin.on('error', () => undefined);
      stdin.pipe(child.stdin);
    }
    child.on('error', reject);
    child.on('close', (code) => {
      stdin?.destroy();
      const [user, sys, wall] = err.trim().split('\n').at(-1)!.split(' ').map(Number);
      if (code !== 0 || wall === undefined) return reject(new Error(`ffmpeg failed: ${err.slice(-300)}`));
      resolve({ cpu: user! + sys!, wall });
    });
  });
}
