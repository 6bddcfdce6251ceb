/** Client-side helpers of the scale-out bench: uploads with presets, event streams, inputs. */
import { execFile } from 'node:child_process';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { multipartBody, postStream, type MultipartFile, type PostResult } from './http.ts';
import { cacheDir, ensureInputWav } from './input.ts';
import { openEventStream, type EventStream } from './sse.ts';
import { isRecord } from './util.ts';

const run = promisify(execFile);

/** POST /api/v1/files with form fields (e.g. presets) before the file part; throws unless 201. */
export async function uploadWith(
  port: number,
  token: string,
  file: MultipartFile,
  fields: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<PostResult & { id: string; bodyBytes: number }> {
  const body = multipartBody(fields, file);
  const result = await postStream(port, '/api/v1/files', body, { authorization: `Bearer ${token}` }, timeoutMs);
  const id = isRecord(result.body) ? result.body.id : undefined;
  if (result.status !== 201 || typeof id !== 'string') {
    throw new Error(`upload failed with ${result.status}: ${JSON.stringify(result.body).slice(0, 300)}`);
  }
  return { ...result, id, bodyBytes: body.length };
}

/** An open event stream; `onEvent` sees every event with the wall-clock time (Date.now()) its chunk arrived. */
export function openEvents(port: number, token: string, onEvent: (type: string, data: string, at: number) => void): Promise<EventStream> {
  return openEventStream(port, token, (event) => onEvent(event.type, event.data, event.at));
}

async function cached(name: string, make: (tmp: string) => Promise<void>): Promise<string> {
  const file = path.join(cacheDir, name);
  if ((await stat(file).catch(() => undefined))?.isFile()) return file;
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp.wav`;
  try {
    await make(tmp);
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
  return file;
}

/** The first `seconds` of the cached 10-minute stereo input (pink noise and tones), cached too. */
export async function ensureExcerpt(seconds: number): Promise<string> {
  const source = await ensureInputWav();
  return cached(`input-${seconds}s-44k-16-stereo.wav`, async (tmp) => {
    await run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-y', '-i', source, '-t', String(seconds), '-c', 'copy', tmp], { timeout: 60_000 });
  });
}

/** A 0.5 s stereo sine WAV (the same as the live benchmark's). */
export async function ensureTiny(): Promise<string> {
  return cached('tiny-0.5s.wav', async (tmp) => {
    await run('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.5', '-ac', '2', tmp], { timeout: 60_000 });
  });
}

/** The nearest-rank percentile of ascending values. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}
