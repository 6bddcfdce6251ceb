import { readdir, readFile, readlink, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from './log.ts';

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every path a process refers to: its arguments, its working directory and its open files. */
async function referencesOf(pid: string): Promise<string[]> {
  const dir = `/proc/${pid}`;
  // cmdline is readable for any process; cwd and fd only for our own user's (or as root).
  const args = await readFile(`${dir}/cmdline`, 'utf8').then((s) => s.split('\0'), () => []);
  const cwd = await readlink(`${dir}/cwd`).then((l) => [l], () => []);
  const fds = await readdir(`${dir}/fd`).catch(() => []);
  const files = await Promise.all(fds.map((fd) => readlink(`${dir}/fd/${fd}`).catch(() => '')));
  return [...args, ...cwd, ...files].filter(Boolean);
}

/**
 * What every other live process refers to, by pid. Undefined where there is no /proc to ask (not
 * Linux): then the caller cannot know.
 */
export async function liveProcessReferences(): Promise<Map<number, string[]> | undefined> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid);
  } catch {
    return undefined;
  }
  return new Map(await Promise.all(pids.map(async (pid) => [Number(pid), await referencesOf(pid)] as const)));
}

/** Pids of other live processes with a reference that satisfies `mentions` (undefined: cannot know). */
export async function processesMentioning(mentions: (ref: string) => boolean): Promise<number[] | undefined> {
  const refs = await liveProcessReferences();
  return refs && [...refs].filter(([, list]) => list.some(mentions)).map(([pid]) => pid);
}

/**
 * Whether `ref` names the entry `name` or something inside it. Matching on the entry's own name,
 * which holds a pid and a random suffix, is robust to other spellings of the same folder
 * (symlinks, `file:` prefixes in ffmpeg's arguments).
 */
export const refersTo = (ref: string, name: string) => ref.includes(`/${name}/`) || ref.endsWith(`/${name}`);

/**
 * Temporary entries are named `<prefix><pid>-…` by the process that made them. One whose process
 * is gone (killed mid-job or mid-upload) holds nothing anyone will read: remove it. Entries of
 * live processes — another Reprise process sharing DATA_DIR — are left alone. So are entries a
 * live process still mentions: an ffmpeg that outlived its server (where `setpriv` could not tie
 * it) may still be writing there; deleting under it frees nothing (open files stay allocated) and
 * hides that it runs. Processes on another host are invisible to both checks: DATA_DIR is meant
 * to be local to one host (hosts share PostgreSQL and S3, not a folder).
 */
export async function sweepDeadProcessEntries(dir: string, prefix: string, log?: Pick<Logger, 'warn'>): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const orphaned = entries.filter((name) => {
    if (!name.startsWith(prefix)) return false;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    return !(Number.isInteger(pid) && pid !== process.pid && isProcessAlive(pid));
  });
  if (orphaned.length === 0) return [];
  // One scan of /proc for all of them: start-up is the only time this runs.
  const refs = [...((await liveProcessReferences()) ?? [])];
  const removed: string[] = [];
  for (const name of orphaned) {
    const users = refs.filter(([, list]) => list.some((ref) => refersTo(ref, name))).map(([pid]) => pid);
    if (users.length > 0) {
      log?.warn({ dir, entry: name, pids: users }, 'kept the leftover of a dead process: a live process still uses it');
      continue;
    }
    await rm(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
