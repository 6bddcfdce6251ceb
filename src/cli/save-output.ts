import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import contentDisposition from 'content-disposition';
import { networkReason, type Api, type FileJson, type OutputJson } from './api.ts';
import { CliError } from './errors.ts';

/**
 * A name from a Content-Disposition header made safe to create in the chosen folder: a plain
 * base name — no folders, no "..", no control characters, not hidden. The server sends names
 * derived from what people uploaded, so they are user text and must not choose where we write.
 */
export function safeFileName(raw: string | undefined, fallback: string): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .replace(/[<>:"|?*]/g, '_')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, 200);
  return cleaned && cleaned !== '.' && cleaned !== '..' ? cleaned : fallback;
}

export function nameFromDisposition(header: string | null): string | undefined {
  if (!header) return undefined;
  try {
    return contentDisposition.parse(header).parameters.filename;
  } catch {
    return undefined;
  }
}

const exists = (file: string) => access(file).then(() => true, () => false);

/** "song.flac", or "song (2).flac" when that is taken: never overwrite what is already there. */
async function freeName(dir: string, name: string): Promise<string> {
  const { name: stem, ext } = path.parse(name);
  for (let i = 1; ; i++) {
    const candidate = path.join(dir, i === 1 ? name : `${stem} (${i})${ext}`);
    if (!(await exists(candidate))) return candidate;
  }
}

/**
 * Streams one output into `dir` under the name the server gives it. The bytes go to a hidden
 * temporary file that is renamed when complete, so an interrupted download never leaves a file
 * that looks finished.
 */
export async function saveOutput(api: Api, file: FileJson, output: OutputJson, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const res = await api.request('GET', output.url, { what: `downloading ${output.preset} of ${file.name}` });
  const fallback = `${file.id}-${output.preset}.${output.extension ?? 'bin'}`;
  const name = safeFileName(nameFromDisposition(res.headers.get('content-disposition')), fallback);
  const tmp = path.join(dir, `.reprise-${randomBytes(6).toString('hex')}.part`);
  try {
    if (!res.body) throw new Error('empty response');
    await pipeline(Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>), createWriteStream(tmp, { flags: 'wx' }));
    const target = await freeName(dir, name);
    await rename(tmp, target);
    return target;
  } catch (err) {
    await rm(tmp, { force: true });
    throw new CliError(`saving ${output.preset} of ${file.name} into ${dir} failed: ${networkReason(err)}`);
  }
}

/** Every output of a completed file, one after the other; the paths written, in preset order. */
export async function saveOutputs(api: Api, file: FileJson, dir: string): Promise<string[]> {
  const saved: string[] = [];
  for (const output of file.outputs) saved.push(await saveOutput(api, file, output, dir));
  return saved;
}
