/**
 * "Nothing half-made": after the fuzzing, storage and database agree. No upload or job scratch
 * left in the temporary folders, every file row has its input and every output row its blob,
 * no queued job points at a missing file, and no blob exists for a file that has no row.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { uploadCopyDir } from '../../src/domain/uploads.ts';
import { listStoredBlobs } from './backends.ts';
import { waitFor, type TestServer } from './server.ts';

/** Jobs still running would legitimately hold scratch files: wait until none is queued or running. */
export async function waitForIdleJobs(srv: TestServer, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    'every fuzz-made job to finish',
    async () => {
      const busy = await srv.app.db.selectFrom('files').select('id').where('status', 'in', ['queued', 'running']).execute();
      return busy.length === 0 ? true : undefined;
    },
    timeoutMs,
  );
}

export async function halfMade(srv: TestServer): Promise<string[]> {
  const { db, deps } = srv.app;
  const problems: string[] = [];

  for (const dir of [path.join(srv.dataDir, 'blobs', 'incoming'), path.join(srv.dataDir, 'tmp'), uploadCopyDir(srv.dataDir)]) {
    const entries = await readdir(dir).catch(() => []);
    if (entries.length > 0) problems.push(`${path.relative(srv.dataDir, dir)}/ still holds ${entries.length} entries: ${entries.slice(0, 5).join(', ')}`);
  }

  const files = await db.selectFrom('files').select(['id', 'input_key', 'status']).execute();
  const fileIds = new Set(files.map((f) => f.id));
  for (const f of files) {
    if (!(await deps.blobs.stat(f.input_key))) problems.push(`file ${f.id} (${f.status}) has a row but no input blob ${f.input_key}`);
  }
  for (const o of await db.selectFrom('outputs').select(['file_id', 'preset_id', 'blob_key']).execute()) {
    if (!fileIds.has(o.file_id)) problems.push(`output ${o.preset_id} of ${o.file_id} has a row but its file has none`);
    if (!(await deps.blobs.stat(o.blob_key))) problems.push(`output ${o.preset_id} of ${o.file_id} has a row but no blob ${o.blob_key}`);
  }
  // The embedded queue's jobs (PostgreSQL's graphile-worker keeps its own): any payload naming a
  // file must name one that exists.
  for (const j of await db.selectFrom('jobs').select(['id', 'name', 'payload']).execute()) {
    const fileId = (JSON.parse(j.payload) as { fileId?: unknown }).fileId;
    if (typeof fileId === 'string' && !fileIds.has(fileId)) problems.push(`job ${j.id} (${j.name}) is queued for file ${fileId}, which has no row`);
  }

  // Disk blobs are listed as paths; S3 ones as keys. Either way, files/<id>/… must have a row.
  const objectsRoot = path.join(srv.dataDir, 'blobs', 'objects');
  for (const entry of await listStoredBlobs(srv.env, srv.dataDir)) {
    const key = srv.env.S3_BUCKET ? entry : path.relative(objectsRoot, entry).split(path.sep).join('/');
    if (key.startsWith('..')) continue; // not an object (incoming/ is checked above)
    const id = /^files\/([^/]+)\//.exec(key)?.[1];
    if (!id) problems.push(`blob ${key} is not under files/<id>/`);
    else if (!fileIds.has(id)) problems.push(`blob ${key} exists but file ${id} has no row`);
  }
  return problems;
}
