import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
// Debian's unzip turns UTF-8 names into "#Uxxxx" escapes unless the locale says UTF-8.
const env = { ...process.env, LC_ALL: 'C.UTF-8' };

/** An archive read by Info-ZIP's unzip, an implementation independent of the one that wrote it. */
export interface UnzippedArchive {
  /** Entry paths in archive order, as unzip reads them from the central directory. */
  names: string[];
  /** Compression method of each entry, as zipinfo names it ("stored", "defN", …). */
  methods: string[];
  /** Where the archive was extracted (nothing there with `extract: false`). */
  dir: string;
  read(name: string): Promise<Buffer>;
}

/**
 * Checks, lists and extracts the archive. With `extract: false` (tens of thousands of entries)
 * nothing is written out and `read` asks unzip for one entry; its name must hold no wildcards.
 */
export async function unzipArchive(bytes: Buffer, opts: { extract?: boolean } = {}): Promise<UnzippedArchive> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-unzip-'));
  const file = path.join(dir, 'archive.zip');
  await writeFile(file, bytes);
  const big = { env, maxBuffer: 256 * 1024 * 1024 };
  // -t checks every entry's CRC-32 and length before anything else is trusted.
  await run('unzip', ['-tqq', file], big);
  const names = (await run('unzip', ['-Z1', file], big)).stdout.split('\n').filter(Boolean);
  // zipinfo's short format: permissions, version, os, size, type, compressed size, method, …
  const methods = (await run('zipinfo', ['-s', file], big)).stdout
    .split('\n')
    .filter((line) => /^[-d]r/.test(line))
    .map((line) => line.split(/\s+/)[5] ?? '');
  const out = path.join(dir, 'x');
  if (opts.extract === false) {
    const read = async (name: string) => (await run('unzip', ['-p', file, name], { ...big, encoding: 'buffer' })).stdout;
    return { names, methods, dir: out, read };
  }
  await run('unzip', ['-qq', '-d', out, file], big);
  return { names, methods, dir: out, read: (name) => readFile(path.join(out, name)) };
}
