/** A `reprise worker` process of the scale-out bench, its pino log lines parsed as they arrive. */
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { isRecord } from './util.ts';

/** Worker process groups (a worker and the ffmpeg it started), for the last-resort SIGKILL. */
const workerGroups = new Set<number>();

const killGroup = (pid: number) => {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
};

/** SIGKILLs every worker process group still known (on error or interrupt). */
export function killWorkerGroups(): void {
  for (const pid of workerGroups) killGroup(pid);
}

/** The JSON objects among a process's output lines (pino writes one per line). */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text.split('\n').flatMap((line) => {
    try {
      const parsed: unknown = JSON.parse(line);
      return isRecord(parsed) ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

/** One pino JSON log line of a worker, with the time it reached the bench. */
export interface LogLine {
  at: number;
  msg: string;
  fileId: string | undefined;
  fields: Record<string, unknown>;
}

/** A `reprise worker` process (spawned detached, so it leads its own process group). */
export class WorkerProc {
  readonly lines: LogLine[] = [];
  private readonly listeners = new Set<(line: LogLine) => void>();
  private tail = '';
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    if (proc.pid) workerGroups.add(proc.pid);
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    proc.stderr?.on('data', (d: Buffer) => this.keep(d.toString('utf8')));
    if (proc.stdout) createInterface({ input: proc.stdout }).on('line', (text) => this.line(text));
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  isRunning(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  logTail(): string {
    return this.tail.trim();
  }

  onLine(listener: (line: LogLine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first log line (already seen or to come) matching `pred`; rejects on timeout or exit. */
  waitFor(pred: (line: LogLine) => boolean, what: string, timeoutMs: number): Promise<LogLine> {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        off();
        this.proc.off('exit', onExit);
        settle();
      };
      const off = this.onLine((line) => pred(line) && finish(() => resolve(line)));
      const onExit = () => finish(() => reject(new Error(`${this.name} exited while waiting for ${what}:\n${this.logTail()}`)));
      this.proc.once('exit', onExit);
      const timer = setTimeout(() => finish(() => reject(new Error(`${this.name}: no ${what} within ${timeoutMs / 1000} s:\n${this.logTail()}`))), timeoutMs);
    });
  }

  /** SIGKILLs the worker process alone (its children are left as a crash leaves them); returns when. */
  kill(): number {
    this.proc.kill('SIGKILL');
    return performance.now();
  }

  /** Whether any process of the worker's group (the worker or an ffmpeg it started) is alive. */
  groupAlive(): boolean {
    try {
      process.kill(-this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    if (this.isRunning()) {
      this.proc.kill('SIGTERM');
      const killer = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
      await this.exited;
      clearTimeout(killer);
    }
    killGroup(this.pid);
    workerGroups.delete(this.pid);
  }

  private keep(text: string): void {
    this.tail = (this.tail + text).slice(-8192);
  }

  private line(text: string): void {
    const at = performance.now();
    this.keep(`${text}\n`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return;
    }
    if (!isRecord(parsed)) return;
    // Job lines carry the file in their payload; other lines name it at the top.
    const payload = isRecord(parsed.payload) ? parsed.payload : {};
    const fileId = typeof parsed.fileId === 'string' ? parsed.fileId : typeof payload.fileId === 'string' ? payload.fileId : undefined;
    const line: LogLine = { at, msg: String(parsed.msg ?? ''), fileId, fields: parsed };
    this.lines.push(line);
    for (const listener of [...this.listeners]) listener(line);
  }
}

/** Rejects when any of the workers logs a failed or canceled outcome for one of `ids` (read live). */
export function failureOf(workers: readonly WorkerProc[], ids: ReadonlySet<string>): { failed: Promise<never>; close(): void } {
  const offs: (() => void)[] = [];
  const failed = new Promise<never>((_, reject) => {
    for (const w of workers) {
      offs.push(
        w.onLine((l) => {
          const outcome = l.fields.outcome;
          if (l.msg === 'job finished' && l.fileId && ids.has(l.fileId) && (outcome === 'failed' || outcome === 'canceled')) {
            reject(new Error(`${w.name}: job for ${l.fileId} ended ${String(outcome)}:\n${w.logTail().slice(-2000)}`));
          }
        }),
      );
    }
  });
  failed.catch(() => undefined); // handled where it is raced; this keeps an early failure from being "unhandled"
  return { failed, close: () => offs.forEach((off) => off()) };
}

/** The first line matching `pred` on any of the workers, and which worker logged it. */
export function firstLine(workers: readonly WorkerProc[], pred: (l: LogLine) => boolean, what: string, timeoutMs: number): Promise<{ worker: WorkerProc; line: LogLine }> {
  return new Promise((resolve, reject) => {
    for (const worker of workers) {
      const seen = worker.lines.find(pred);
      if (seen) return resolve({ worker, line: seen });
    }
    // Listeners only once no worker has logged it yet: one left behind would fire on a later line.
    const offs: (() => void)[] = [];
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      offs.forEach((off) => off());
      settle();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`no ${what} within ${timeoutMs / 1000} s`))), timeoutMs);
    for (const worker of workers) offs.push(worker.onLine((line) => pred(line) && finish(() => resolve({ worker, line }))));
  });
}
