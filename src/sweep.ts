import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Temporary entries are named `<prefix><pid>-…` by the process that made them. One whose process
 * is gone (killed mid-job or mid-upload) holds nothing anyone will read: remove it. Entries of
 * live processes — another Reprise process sharing DATA_DIR — are left alone.
 */
export async function sweepDeadProcessEntries(dir: string, prefix: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of entries) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && isProcessAlive(pid)) continue;
    await rm(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
