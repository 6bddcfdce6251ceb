import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiClient, type FileJson } from './helpers/clients.ts';
import { fixtures } from './helpers/audio.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { fileWhen } from './helpers/files.ts';

const statusOf = async (api: ApiClient, id: string) => (await api.json<FileJson>('GET', `/files/${id}`)).body;
const notificationsFor = async (api: ApiClient, id: string) =>
  (await api.json<{ notifications: { fileId: string; message: string; kind: string }[] }>('GET', '/notifications')).body.notifications.filter(
    (n) => n.fileId === id,
  );

describe('cancel and retry', () => {
  let srv: TestServer;
  let api: ApiClient;
  before(async () => {
    srv = await startServer({ WORKER_CONCURRENCY: '1' });
    api = await ApiClient.signUp(srv.url, 'ivan');
  });
  after(() => srv.close());

  it('cancels a running job: ffmpeg stops, nothing is published, no notification', async () => {
    const up = await api.upload(await fixtures.long(), { name: 'Long one' });
    await fileWhen(api, up.body.id, (f) => f.status === 'running' && f.progress >= 1, 'running with progress');
    const canceled = await api.json<FileJson>('POST', `/files/${up.body.id}/cancel`);
    assert.equal(canceled.status, 200);
    assert.equal(canceled.body.status, 'canceled');
    // The worker notices within a progress tick, kills ffmpeg and cleans its scratch folder.
    await waitFor('scratch to be empty', async () => ((await readdir(path.join(srv.dataDir, 'tmp'))).length === 0 ? true : undefined), 10_000);
    const after = await statusOf(api, up.body.id);
    assert.equal(after.status, 'canceled');
    assert.deepEqual(after.outputs, []);
    assert.deepEqual(await notificationsFor(api, up.body.id), []);
    const again = await api.json<{ code: string }>('POST', `/files/${up.body.id}/cancel`);
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'not_cancelable');
  });

  it('cancels a queued job before it starts', async () => {
    // The one slot is busy with the first upload, so the second waits in the queue.
    const first = await api.upload(await fixtures.long(), { presets: 'aac-256k' });
    const second = await api.upload(await fixtures.wav(), { presets: 'mp3-128k' });
    await fileWhen(api, first.body.id, (f) => f.status === 'running', 'first running');
    assert.equal((await statusOf(api, second.body.id)).status, 'queued');
    assert.equal((await api.json<FileJson>('POST', `/files/${second.body.id}/cancel`)).body.status, 'canceled');
    await api.json('POST', `/files/${first.body.id}/cancel`);
    const jobs = await srv.app.db.selectFrom('jobs').selectAll().where('key', '=', `transcode:${second.body.id}:g1`).execute();
    assert.deepEqual(jobs, []);
  });
});

describe('retry', () => {
  let srv: TestServer;
  let api: ApiClient;
  before(async () => {
    srv = await startServer({ WORKER_CONCURRENCY: '0' });
    api = await ApiClient.signUp(srv.url, 'judy');
  });
  after(() => srv.close());

  it('runs a canceled job again, to completion', async () => {
    // No workers yet: the job stays queued, so the cancel is certain to catch it.
    const up = await api.upload(await fixtures.mp3WithCover(), { presets: 'flac-cd' });
    assert.equal((await api.json<FileJson>('POST', `/files/${up.body.id}/cancel`)).body.status, 'canceled');
    const retried = await api.json<FileJson>('POST', `/files/${up.body.id}/retry`);
    assert.equal(retried.status, 200);
    assert.equal(retried.body.status, 'queued');
    const pool = await srv.app.startWorkers(1);
    try {
      const done = await fileWhen(api, up.body.id, (f) => f.status === 'completed', 'completed after retry');
      assert.equal(done.outputs.length, 1);
      assert.equal((await api.json('POST', `/files/${up.body.id}/retry`)).status, 409, 'a completed file is not retried');
      assert.equal((await notificationsFor(api, up.body.id)).length, 1);
    } finally {
      await pool?.stop(1000);
    }
  });

  it('reports a failure to its owner, and succeeds when retried', async () => {
    const up = await api.upload(await fixtures.mp3WithCover(), { name: 'Broken', presets: 'wav-44k-16' });
    assert.equal(up.status, 201);
    // Damage the stored input after it was accepted, as a failing disk would.
    const key = `files/${up.body.id}/input`;
    const good = await buffer(await srv.app.deps.blobs.get(key));
    await srv.app.deps.blobs.put(key, Readable.from([Buffer.alloc(good.length, 0x55)]));
    const pool = await srv.app.startWorkers(1);
    try {
      const failed = await fileWhen(api, up.body.id, (f) => f.status === 'failed', 'failure');
      assert.ok(failed.error && failed.error.length > 0);
      assert.doesNotMatch(failed.error ?? '', /\/tmp|blobs|objects/, 'no server paths in the reason');
      const [n, ...rest] = await notificationsFor(api, up.body.id);
      assert.equal(rest.length, 0);
      assert.equal(n?.kind, 'failed');
      assert.equal(n?.message, `Transcoding Broken failed: ${failed.error}`);

      await srv.app.deps.blobs.put(key, Readable.from([good]));
      const retried = await api.json<FileJson>('POST', `/files/${up.body.id}/retry`);
      assert.ok(['queued', 'running'].includes(retried.body.status));
      assert.equal(retried.body.error, null);
      const done = await fileWhen(api, up.body.id, (f) => f.status === 'completed', 'completion after retry');
      assert.equal(done.outputs.length, 1);
      const all = await notificationsFor(api, up.body.id);
      assert.deepEqual(all.map((x) => x.kind).sort(), ['completed', 'failed'], 'one notification per outcome');
    } finally {
      await pool?.stop(1000);
    }
  });
});
