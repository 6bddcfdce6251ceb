import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { CliError } from './errors.ts';
import { shortPath } from './format.ts';

/** What counts as audio inside a folder; files named one by one are sent whatever they are called. */
export const AUDIO_EXTENSIONS = new Set(['wav', 'flac', 'mp3', 'm4a', 'aac', 'ogg', 'opus', 'aif', 'aiff', 'wv', 'ape', 'caf', 'w64', 'mka']);

export interface LocalFile {
  /** As the person would recognise it: relative to where they ran the command, if inside it. */
  display: string;
  absolute: string;
  size: number;
  mtimeMs: number;
}

const isAudioName = (name: string) => AUDIO_EXTENSIONS.has(path.extname(name).slice(1).toLowerCase());
const isHidden = (name: string) => name.startsWith('.');

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  // Sorted, so the order of uploads (and of the summary) is the same on every run.
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (isHidden(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, out);
    else if (entry.isFile() && isAudioName(entry.name)) out.push(full);
    // Symbolic links inside folders are skipped: following them could loop or leave the folder.
  }
}

/**
 * Files and folders from the command line → the files to send, each once. A path that does not
 * exist stops everything before the first byte is sent: a typo should not cost half an upload.
 */
export async function expandInputs(inputs: readonly string[], cwd = process.cwd()): Promise<{ files: LocalFile[]; notes: string[] }> {
  const seen = new Set<string>();
  const files: LocalFile[] = [];
  const notes: string[] = [];
  for (const input of inputs) {
    const absolute = path.resolve(cwd, input);
    const info = await stat(absolute).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new CliError(`no such file or folder: ${input}`);
      throw new CliError(`cannot read ${input}: ${err.code ?? err.message}`);
    });
    let found: string[];
    if (info.isDirectory()) {
      found = [];
      await walk(absolute, found).catch((err: NodeJS.ErrnoException) => {
        throw new CliError(`cannot read the folder ${input}: ${err.code ?? err.message}`);
      });
      if (found.length === 0) notes.push(`${input}: no audio files in this folder (looked for .${[...AUDIO_EXTENSIONS].join(' .')})`);
    } else if (info.isFile()) {
      found = [absolute];
    } else {
      throw new CliError(`not a file or folder: ${input}`);
    }
    for (const file of found) {
      if (seen.has(file)) continue;
      seen.add(file);
      const s = file === absolute ? info : await stat(file);
      files.push({ display: shortPath(file, cwd), absolute: file, size: s.size, mtimeMs: s.mtimeMs });
    }
  }
  return { files, notes };
}
