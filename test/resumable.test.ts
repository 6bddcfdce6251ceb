import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inputKey } from '../src/domain/uploads.ts';
import { fixtures } from './helpers/audio.ts';
import { listStoredBlobs, resumableBytesHeld } from './helpers/backends.ts';
import { ApiClient, PageClient } from './helpers/clients.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { readAll, tusUpload } from './helpers/tus.ts';
import { fileEnded } from './helpers/files.ts';

describe('resumable uploads (tus 1.0)', () => {
  let srv: TestServer;
  let api: ApiClient;
  let auth: Record<string, string>;

  before(async () => {
    srv = await startServer({ MAX_UPLOAD_BYTES: String(3 * 1024 * 1024) });
    api = await ApiClient.signUp(srv.url, 'resumer');
    auth = { authorization: `Bearer ${api.token}` };
  });
  after(() => srv.close());

  it('resumes an interrupted upload and stores the source byte for byte, then transcodes it', async () => {
    const source = await readFile(await fixtures.wav());
    const first = await tusUpload(srv.url, source, { headers: auth, metadata: { filename: 'tone.wav', name: 'Resumed', presets: 'flac-cd' }, abortAt: 0.5 });
    assert.ok(first.url, 'an upload URL');
    const head = await fetch(`${srv.url}${new URL(first.url, srv.url).pathname}`, { method: 'HEAD', headers: { ...auth, 'tus-resumable': '1.0.0' } });
    const offset = Number(head.headers.get('upload-offset'));
    assert.ok(offset > 0 && offset < source.length, `offset ${offset} of ${source.length}`);

    const second = await tusUpload(srv.url, source, { headers: auth, metadata: { filename: 'tone.wav' }, uploadUrl: first.url });
    assert.ok(second.fileId, JSON.stringify(second));
    const stored = await readAll(await srv.app.deps.blobs.get(inputKey(second.fileId)));
    assert.equal(Buffer.compare(stored, source), 0, 'stored input differs from the source');
    const file = await fileEnded(api, second.fileId);
    assert.equal(file.status, 'completed');
    assert.equal(file.name, 'Resumed');
    assert.deepEqual(file.presets, ['flac-cd']);
    const userId = (await srv.app.deps.store.users.findByUsername('resumer'))?.id ?? '';
    assert.equal(await srv.app.deps.store.resumableUploads.countForUser(userId), 0, 'a finished upload is forgotten');
    const uploadId = (first.url ?? '').split('/').pop() ?? '';
    // Unfinished uploads live under DATA_DIR with local blobs, in the bucket with remote ones.
    const left = srv.app.deps.blobs.local
      ? await readdir(path.join(srv.dataDir, 'resumable'))
      : (await listStoredBlobs(srv.env, srv.dataDir)).filter((k) => k.startsWith('resumable/')).map((k) => k.slice('resumable/'.length));
    assert.match(uploadId, /^[0-9a-f]{32}$/);
    assert.deepEqual(left.filter((n) => n.startsWith(uploadId)), [], 'nothing of the finished upload is left');
  });

  it('answers 404 to another user, and to nobody without credentials 401', async () => {
    const source = await readFile(await fixtures.wav());
    const mine = await tusUpload(srv.url, source, { headers: auth, metadata: { filename: 'a.wav' }, abortAt: 0.3 });
    const other = await ApiClient.signUp(srv.url, 'snooper');
    const path = new URL(mine.url ?? '', srv.url).pathname;
    for (const method of ['HEAD', 'PATCH', 'DELETE']) {
      const res = await fetch(`${srv.url}${path}`, { method, headers: { authorization: `Bearer ${other.token}`, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' } });
      assert.equal(res.status, 404, method);
    }
    assert.equal((await fetch(`${srv.url}${path}`, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0' } })).status, 401);
    const gone = await fetch(`${srv.url}${path}`, { method: 'DELETE', headers: { ...auth, 'tus-resumable': '1.0.0' } });
    assert.equal(gone.status, 204);
  });

  it('refuses a missing filename, an oversize declared length, and non-audio with the reason', async () => {
    const noName = await tusUpload(srv.url, Buffer.alloc(1000, 1), { headers: auth });
    assert.equal(noName.status, 400);
    const big = await fetch(`${srv.url}/api/v1/uploads`, { method: 'POST', headers: { ...auth, 'tus-resumable': '1.0.0', 'upload-length': String(10 * 1024 * 1024), 'upload-metadata': `filename ${Buffer.from('x.wav').toString('base64')}` } });
    assert.equal(big.status, 413);
    const text = await tusUpload(srv.url, Buffer.from('just some text\n'.repeat(100)), { headers: auth, metadata: { filename: 'notes.wav' } });
    assert.equal(text.status, 422, JSON.stringify(text));
    assert.match(text.body ?? '', /not audio|cannot be decoded|could not be read/);
    assert.equal(await srv.app.deps.store.resumableUploads.countForUser((await srv.app.deps.store.users.findByUsername('resumer'))?.id ?? ''), 0);
  });

  it('takes a browser session with its CSRF header, and refuses it without', async () => {
    const page = await PageClient.signUp(srv.url, 'browserup');
    const create = (headers: Record<string, string>) =>
      page.fetch('/api/v1/uploads', { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '10', 'upload-metadata': `filename ${Buffer.from('x.wav').toString('base64')}`, ...headers } });
    assert.equal((await create({})).status, 403);
    const ok = await create({ 'x-csrf-token': page.csrf });
    assert.equal(ok.status, 201);
    assert.match(ok.headers.get('location') ?? '', /^\/api\/v1\/uploads\/[0-9a-f]{32}$/);
  });

  it('keeps no byte past the declared length, nor past MAX_UPLOAD_BYTES when the length is deferred', async () => {
    const user = await ApiClient.signUp(srv.url, 'overflow');
    const h = { authorization: `Bearer ${user.token}`, 'tus-resumable': '1.0.0', 'upload-metadata': `filename ${Buffer.from('x.wav').toString('base64')}` };
    const create = async (extra: Record<string, string>) => {
      const res = await fetch(`${srv.url}/api/v1/uploads`, { method: 'POST', headers: { ...h, ...extra } });
      assert.equal(res.status, 201, await res.text());
      return `${srv.url}${res.headers.get('location') ?? ''}`;
    };
    const patch = (url: string, body: Buffer) =>
      fetch(url, { method: 'PATCH', headers: { ...h, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: new Uint8Array(body) }).then(async (r) => ({ status: r.status, text: await r.text() }));
    const offset = async (url: string) => Number((await fetch(url, { method: 'HEAD', headers: h })).headers.get('upload-offset'));

    const declared = await create({ 'upload-length': '1000' });
    const over = await patch(declared, Buffer.alloc(1024 * 1024, 7));
    assert.equal(over.status, 413, over.text);
    assert.ok((await offset(declared)) <= 1000, 'nothing past the declared length was kept');

    const deferred = await create({ 'upload-defer-length': '1' });
    // One MiB over the limit of this server (3 MiB), sent without ever saying how long it is.
    const flood = await patch(deferred, Buffer.alloc(4 * 1024 * 1024, 9));
    assert.equal(flood.status, 413, flood.text);
    assert.ok((await offset(deferred)) <= 3 * 1024 * 1024, 'nothing past MAX_UPLOAD_BYTES was kept');
    assert.ok((await resumableBytesHeld(srv.env, srv.dataDir)) <= 3 * 1024 * 1024 + 1000, 'the bytes held are within the limit too');
    for (const url of [declared, deferred]) assert.equal((await fetch(url, { method: 'DELETE', headers: h })).status, 204);
  });

  it('limits unfinished uploads per user, and expires them with their bytes', async () => {
    const user = await ApiClient.signUp(srv.url, 'hoarder');
    const h = { authorization: `Bearer ${user.token}`, 'tus-resumable': '1.0.0', 'upload-length': '100000', 'upload-metadata': `filename ${Buffer.from('x.wav').toString('base64')}` };
    const created: Response[] = [];
    for (let i = 0; i < 6; i++) created.push(await fetch(`${srv.url}/api/v1/uploads`, { method: 'POST', headers: h }));
    assert.deepEqual(created.map((r) => r.status), [201, 201, 201, 201, 201, 429]);
    // Half of one upload arrives, so expiry has bytes to remove and not only rows.
    const before = await resumableBytesHeld(srv.env, srv.dataDir);
    const half = await fetch(`${srv.url}${created[0]?.headers.get('location') ?? ''}`, {
      method: 'PATCH',
      headers: { authorization: h.authorization, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: new Uint8Array(50_000).fill(3),
    });
    assert.equal(half.status, 204, await half.text());
    assert.equal((await resumableBytesHeld(srv.env, srv.dataDir)) - before, 50_000);
    const userId = (await srv.app.deps.store.users.findByUsername('hoarder'))?.id ?? '';
    await srv.app.db.updateTable('resumable_uploads').set({ created_at: 0 }).where('user_id', '=', userId).execute();
    const stop = srv.app.startHousekeeping();
    stop();
    await waitFor('expired uploads gone', async () => ((await srv.app.deps.store.resumableUploads.countForUser(userId)) === 0 ? true : undefined), 10_000);
    await waitFor('their bytes gone', async () => ((await resumableBytesHeld(srv.env, srv.dataDir)) === before ? true : undefined), 10_000);
    assert.equal((await fetch(`${srv.url}/api/v1/uploads`, { method: 'POST', headers: h })).status, 201);
  });

});
