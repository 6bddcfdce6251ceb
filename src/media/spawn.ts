import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

/**
 * ffmpeg must not outlive the process that started it: an orphan keeps writing into scratch that
 * the next start sweeps away, while the re-run starts a second ffmpeg on the same file. On Linux,
 * util-linux's `setpriv --pdeathsig KILL` asks the kernel to SIGKILL the child the moment its
 * parent dies (SIGKILL included), then execs the program, so the pid we hold is ffmpeg's own.
 */
const SETPRIV = '/usr/bin/setpriv';

function hasSetpriv(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    accessSync(SETPRIV, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const wrap = hasSetpriv();

/** Whether children are tied to this process's life (false where setpriv is unavailable). */
export const childrenDieWithParent = wrap;

/** Spawns `cmd args…` with stdout and stderr piped, killed by the kernel if we die. */
export function spawnTied(cmd: string, args: readonly string[]): ChildProcessByStdio<null, Readable, Readable> {
  const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
  return wrap ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', cmd, ...args], { stdio }) : spawn(cmd, [...args], { stdio });
}

/** As spawnTied, with a pipe to the child's stdin (ffmpeg reading `pipe:0`). */
export function spawnTiedReading(cmd: string, args: readonly string[]): ChildProcessByStdio<Writable, Readable, Readable> {
  const stdio: ['pipe', 'pipe', 'pipe'] = ['pipe', 'pipe', 'pipe'];
  return wrap ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', cmd, ...args], { stdio }) : spawn(cmd, [...args], { stdio });
}
