import { ProgressParser } from './progress.ts';
import { RunGuard } from './run-guard.ts';
import type { Readable } from 'node:stream';
import { spawnTied, spawnTiedReading } from './spawn.ts';
import { MediaError, type MediaLimits } from './types.ts';

/**
 * The last meaningful line ffmpeg printed, trimmed of its "[demuxer @ 0x…]" prefix. Paths become
 * "the file" and URLs "the stored input": a presigned URL is a credential for as long as it lives.
 */
export function summarizeStderr(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^\[[^\]]*\]\s*/, '').replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"]+?(?=:?(\s|$))/gi, 'the stored input').replace(/(^|[\s'"])(file:)?\/[^\s:'"]+/g, '$1the file').trim())
    .filter(Boolean);
  return (lines[lines.length - 1] ?? 'ffmpeg failed').slice(0, 300);
}

export interface TrackedRun {
  ffmpegPath: string;
  stallTimeoutMs: number;
  args: string[];
  /** The length the probe claimed: progress percentages and the guard's message use it. */
  claimedMs: number;
  /** Every file the run writes, held to the byte limit while it runs. */
  written: readonly string[];
  signal: AbortSignal;
  limits: MediaLimits;
  onProgress(percent: number): void;
  /**
   * Piped into ffmpeg's stdin (the args read `pipe:0`). Destroyed when ffmpeg exits, having read
   * it all or not; a read error kills ffmpeg and rejects with that error (storage, not media).
   */
  stdin?: Readable;
}

/**
 * Runs one ffmpeg that reports `-progress pipe:1`, holding it to the job's limits: killed when it
 * stalls, runs past the longest input, writes past the byte cap, or the signal aborts. Resolves
 * with the audio length it reported and the tail of its stderr (where meters print summaries).
 */
export function runTracked(run: TrackedRun): Promise<{ durationMs: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    if (run.signal.aborted) {
      run.stdin?.destroy();
      return reject(new MediaError('canceled', 'Canceled.'));
    }
    const child = run.stdin ? spawnTiedReading(run.ffmpegPath, run.args) : spawnTied(run.ffmpegPath, run.args);
    let stderr = '';
    let failure: Error | undefined;
    const parser = new ProgressParser(run.claimedMs, run.onProgress);
    const guard = new RunGuard(run.limits, run.written, run.claimedMs);

    const kill = (why: Error) => {
      failure ??= why;
      child.kill('SIGKILL');
    };
    let exited = false;
    if (run.stdin && child.stdin) {
      const source = run.stdin;
      // ffmpeg closes its stdin when it has what it needs (or dies): the write errors (EPIPE)
      // that follow say nothing its exit status does not.
      child.stdin.on('error', () => undefined);
      source.on('error', (err: Error) => {
        if (!exited) kill(err);
      });
      source.pipe(child.stdin);
    }
    // ffmpeg can hang without a word; no progress line for stallTimeoutMs ends the job.
    const stalled = new MediaError('stalled', `ffmpeg made no progress for ${Math.round(run.stallTimeoutMs / 1000)} s and was stopped.`);
    let watchdog = setTimeout(() => kill(stalled), run.stallTimeoutMs);
    const onAbort = () => kill(new MediaError('canceled', 'Canceled.'));
    run.signal.addEventListener('abort', onAbort, { once: true });

    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => kill(stalled), run.stallTimeoutMs);
      parser.push(chunk);
      // Progress arrives twice a second: the moment to check length and bytes against the limits.
      const tooLong = guard.checkTime(parser.outTimeMs);
      if (tooLong) return kill(tooLong);
      guard.checkBytes().then(
        (tooLarge) => tooLarge && kill(tooLarge),
        () => kill(new MediaError('failed', 'The size of the outputs could not be measured.')),
      );
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8192)));
    child.on('error', (err) => kill(new MediaError('failed', `could not start ffmpeg: ${err.message}`)));
    child.on('close', (code) => {
      exited = true;
      // Ends an unread remainder's request (S3) or file handle; no error event is owed to anyone.
      run.stdin?.destroy();
      clearTimeout(watchdog);
      run.signal.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      if (code !== 0) return reject(new MediaError('failed', summarizeStderr(stderr)));
      // A run shorter than one progress interval was never measured: do it once at the end.
      guard.checkFinal(parser.outTimeMs).then(
        (over) => (over ? reject(over) : resolve({ durationMs: Math.round(parser.outTimeMs), stderr })),
        reject,
      );
    });
  });
}
