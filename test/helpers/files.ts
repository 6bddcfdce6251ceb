import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import type { ApiClient, FileJson } from './clients.ts';
import { waitFor } from './server.ts';

/** Polls GET /files/:id until `want` holds, and answers the file as it then stood. */
export function fileWhen<F extends FileJson = FileJson>(client: ApiClient, id: string, want: (file: F) => boolean, what: string, timeoutMs = 90_000): Promise<F> {
  return waitFor(what, async () => {
    const { body } = await client.json<F>('GET', `/files/${id}`);
    return want(body) ? body : undefined;
  }, timeoutMs);
}

/** Polls until the file's job has ended either way: the caller asserts which. */
export function fileEnded<F extends FileJson = FileJson>(client: ApiClient, id: string, timeoutMs = 90_000): Promise<F> {
  return fileWhen<F>(client, id, (f) => f.status === 'completed' || f.status === 'failed', `file ${id} to finish`, timeoutMs);
}

/** Polls until the file's job has ended in any way, canceled included. */
export function fileSettled<F extends FileJson = FileJson>(client: ApiClient, id: string, timeoutMs = 90_000): Promise<F> {
  return fileWhen<F>(client, id, (f) => f.status === 'completed' || f.status === 'failed' || f.status === 'canceled', `file ${id} to end`, timeoutMs);
}

/** Downloads one output of a file into `to` (asserting it is there to download), and answers `to`. */
export async function saveOutput(client: ApiClient, fileId: string, preset: string, to: string): Promise<string> {
  const res = await client.request('GET', `/files/${fileId}/outputs/${preset}`);
  assert.equal(res.status, 200, `${preset} of ${fileId} downloads`);
  await writeFile(to, Buffer.from(await res.arrayBuffer()));
  return to;
}
