import assert from 'node:assert/strict';
import { readdir, readlink } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fixtures } from './helpers/audio.ts';
import { backend } from './helpers/backends.ts';
import { ApiClient, PageClient, type FileJson } from './helpers/clients.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { unzipArchive } from './helpers/unzip.ts';
import { fileEnded } from './helpers/files.ts';

const password = 'correct horse battery';

describe(`ZIP downloads (${backend.name})`, () => {
  let srv: TestServer;
  let alice: ApiClient;
  let bob: ApiClient;
  let tone: FileJson;
  let twin: FileJson;
  let hostile: FileJson;
  let canceled: FileJson;

  const upload = async (client: ApiClient, file: string, fields: Record<string, string>, filename?: string) => {
    const up = await client.upload(file, fields, filename);
    assert.equal(up.status, 201, JSON.stringify(up.body));
    return up.body;
  };

  /** The archive as the API answers it, with the length the headers promised. */
  const download = async (client: ApiClient, method: string, url: string, body?: unknown) => {
    const res = await client.request(method, url, body);
    const bytes = Buffer.from(await res.arrayBuffer());
    return { res, bytes };
  };

  /** Every output of `file`, as its own single download answers it. */
  const singles = async (client: ApiClient, file: FileJson) => {
    const out = new Map<string, Buffer>();
    for (const o of file.outputs) {
      const res = await client.request('GET', `/files/${file.id}/outputs/${o.preset}`);
      assert.equal(res.status, 200);
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1];
      assert.ok(name, 'a single download names its file');
      out.set(name, Buffer.from(await res.arrayBuffer()));
    }
    return out;
  };

  before(async () => {
    srv = await startServer();
    alice = await ApiClient.signUp(srv.url, 'alice', password);
    bob = await ApiClient.signUp(srv.url, 'bob', password);
    const wav = await fixtures.wav();
    // Two MP3 presets share an extension, so their single downloads carry the preset id.
    const [a, b, c] = await Promise.all([
      upload(alice, wav, { name: 'Same name', presets: 'wav-44k-16,flac-cd,mp3-128k,mp3-320k' }),
      upload(alice, wav, { name: 'same NAME', presets: 'mp3-128k' }),
      upload(alice, wav, { name: '../../etc/passwd', presets: 'opus-96k' }, '..\\..\\Windows\\CON.wav'),
    ]);
    const long = await upload(alice, await fixtures.long(), { name: 'Never finished', presets: 'aac-256k' });
    const cancel = await alice.json<FileJson>('POST', `/files/${long.id}/cancel`);
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    canceled = cancel.body;
    [tone, twin, hostile] = await Promise.all([fileEnded(alice, a.id), fileEnded(alice, b.id), fileEnded(alice, c.id)]);
    for (const f of [tone, twin, hostile]) assert.equal(f.status, 'completed', f.error ?? '');
  });
  after(() => srv.close());

  it("holds one file's outputs, stored, byte for byte the single downloads, under their names", async () => {
    const { res, bytes } = await download(alice, 'GET', `/files/${tone.id}/outputs.zip`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    assert.equal(Number(res.headers.get('content-length')), bytes.length);
    assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="Same name\.zip"$/);

    const zip = await unzipArchive(bytes);
    const expected = await singles(alice, tone);
    assert.deepEqual(zip.names, ['tone.wav', 'tone.flac', 'tone-mp3-128k.mp3', 'tone-mp3-320k.mp3']);
    assert.deepEqual([...expected.keys()], zip.names, 'the names of the single downloads');
    assert.deepEqual(zip.methods, ['stor', 'stor', 'stor', 'stor'], 'audio is stored, not recompressed');
    for (const [name, want] of expected) assert.ok((await zip.read(name)).equals(want), `${name} differs from its single download`);
  });

  it('bundles chosen files in one folder each, with equal names made unique and hostile names made safe', async () => {
    const ids = [tone.id, twin.id, hostile.id, canceled.id];
    const { res, bytes } = await download(alice, 'POST', '/zip', { ids });
    assert.equal(res.status, 200, bytes.toString().slice(0, 300));
    assert.match(res.headers.get('content-disposition') ?? '', /filename="reprise-4-files\.zip"/);
    const zip = await unzipArchive(bytes);
    assert.deepEqual(zip.names, [
      'Same name/tone.wav',
      'Same name/tone.flac',
      'Same name/tone-mp3-128k.mp3',
      'Same name/tone-mp3-320k.mp3',
      'same NAME (2)/tone.mp3',
      '_._etc_passwd/_CON.opus',
    ]);
    for (const name of zip.names) {
      assert.ok(!name.split('/').some((part) => part === '..' || part === '.' || part === ''), name);
      assert.ok(!name.startsWith('/') && !name.includes('\\') && !name.includes('..'), name);
      // eslint-disable-next-line no-control-regex -- looking for control characters
      assert.ok(!/[\u0000-\u001f\u007f]/.test(name), name);
    }
    // Extraction put everything inside the target folder, and nothing else anywhere.
    const extracted = await readdir(zip.dir, { recursive: true, withFileTypes: true });
    const files = extracted.filter((e) => e.isFile()).map((e) => path.relative(zip.dir, path.join(e.parentPath, e.name))).sort();
    assert.deepEqual(files, [...zip.names].sort());

    const byFolder: [string, FileJson][] = [['Same name', tone], ['same NAME (2)', twin], ['_._etc_passwd', hostile]];
    for (const [folder, file] of byFolder) {
      for (const [name, want] of await singles(alice, file)) {
        const inZip = name === 'CON.opus' ? '_CON.opus' : name;
        assert.ok((await zip.read(`${folder}/${inZip}`)).equals(want), `${folder}/${inZip}`);
      }
    }
  });

  it('answers a clear 4xx when there is nothing to download or the list is wrong', async () => {
    const cases: [unknown, number, string][] = [
      [{ ids: [canceled.id] }, 409, 'nothing_to_download'],
      [{ ids: [] }, 422, 'no_files_chosen'],
      [{ ids: 'not a list' }, 422, 'invalid_ids'],
      [{ ids: [42] }, 422, 'invalid_ids'],
      [{}, 422, 'no_files_chosen'],
      [{ ids: Array.from({ length: 1001 }, (_, i) => `id-${i}`) }, 422, 'too_many_files'],
    ];
    for (const [body, status, code] of cases) {
      const res = await alice.json<{ code: string; detail: string }>('POST', '/zip', body);
      assert.equal(res.status, status, JSON.stringify(body).slice(0, 80));
      assert.equal(res.res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(res.body.code, code);
      assert.ok(res.body.detail.length > 10);
    }
    const single = await alice.json<{ code: string }>('GET', `/files/${canceled.id}/outputs.zip`);
    assert.equal(single.status, 409);
    assert.equal(single.body.code, 'nothing_to_download');
  });

  it("answers 404 for a foreign or unknown id, also when mixed with the caller's own", async () => {
    const bobsOwn = await upload(bob, await fixtures.wav(), { presets: 'mp3-128k' });
    await fileEnded(bob, bobsOwn.id);
    const attempts: [string, string, unknown][] = [
      ['GET', `/files/${tone.id}/outputs.zip`, undefined],
      ['GET', '/files/no-such-file/outputs.zip', undefined],
      ['POST', '/zip', { ids: [tone.id] }],
      ['POST', '/zip', { ids: [bobsOwn.id, tone.id] }],
      ['POST', '/zip', { ids: [bobsOwn.id, 'no-such-file'] }],
    ];
    for (const [method, url, body] of attempts) {
      const res = await bob.json<{ code: string }>(method, url, body);
      assert.equal(res.status, 404, `${method} ${url} ${JSON.stringify(body)}`);
      assert.equal(res.body.code, 'not_found');
    }
    const anonymous = await new ApiClient(srv.url).json('GET', `/files/${tone.id}/outputs.zip`);
    assert.equal(anonymous.status, 401);
  });

  it('lets a read-only token download, and a session read but not POST through the API', async () => {
    const made = await alice.json<{ token: string }>('POST', '/tokens', { name: 'reader', readOnly: true });
    const reader = new ApiClient(srv.url);
    reader.token = made.body.token;
    assert.equal((await download(reader, 'POST', '/zip', { ids: [twin.id] })).res.status, 200);
    assert.equal((await download(reader, 'GET', `/files/${twin.id}/outputs.zip`)).res.status, 200);
    assert.equal((await reader.json('DELETE', `/files/${twin.id}`)).status, 403, 'still read-only elsewhere');

    const pages = new PageClient(srv.url);
    await pages.get('/login');
    assert.equal((await pages.post('/login', { username: 'alice', password })).status, 303);
    const viaCookie = await pages.fetch(`/api/v1/files/${twin.id}/outputs.zip`, { method: 'GET' });
    assert.equal(viaCookie.status, 200);
    await viaCookie.arrayBuffer();
    const postViaCookie = await pages.fetch('/api/v1/zip', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: [twin.id] }) });
    assert.equal(postViaCookie.status, 401, 'a cookie alone never POSTs to the API');
  });

  it('offers both archives on the pages: a link per file, and a CSRF-checked form of checkboxes', async () => {
    const pages = new PageClient(srv.url);
    await pages.get('/login');
    await pages.post('/login', { username: 'alice', password });
    const filePage = await pages.get(`/files/${tone.id}`);
    assert.ok(filePage.html.includes(`href="/files/${tone.id}/outputs.zip"`), 'Download all (ZIP) link');
    assert.match(filePage.html, /Download all \(ZIP\)/);
    const single = await pages.fetch(`/files/${tone.id}/outputs.zip`, { method: 'GET' });
    assert.equal(single.status, 200);
    assert.deepEqual((await unzipArchive(Buffer.from(await single.arrayBuffer()))).names.length, 4);

    const list = await pages.get('/files');
    assert.match(list.html, /<form method="post" action="\/files\/zip"/);
    for (const f of [tone, twin, hostile]) assert.ok(list.html.includes(`name="ids" value="${f.id}"`), `checkbox for ${f.name}`);
    // The same selection also retries and deletes, so a file with nothing to download is chosen too.
    assert.ok(list.html.includes(`name="ids" value="${canceled.id}"`), 'checkbox for a canceled file (retry, delete)');

    const form = (withCsrf: boolean) => {
      const body = new URLSearchParams([['ids', tone.id], ['ids', twin.id]]);
      if (withCsrf) body.append('_csrf', pages.csrf);
      return pages.fetch('/files/zip', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    };
    const forged = await form(false);
    assert.equal(forged.status, 403);
    await forged.arrayBuffer();
    const res = await form(true);
    assert.equal(res.status, 200);
    const zip = await unzipArchive(Buffer.from(await res.arrayBuffer()));
    assert.deepEqual(zip.names.map((n) => n.split('/')[0]), ['Same name', 'Same name', 'Same name', 'Same name', 'same NAME (2)']);

    const nothing = await pages.fetch('/files/zip', { method: 'POST', body: new URLSearchParams({ _csrf: pages.csrf }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(nothing.status, 422);
    assert.match(await nothing.text(), /Choose at least one file/);
  });

  it('stops reading and closes every blob when the client goes away mid-archive', async () => {
    // Outputs large enough that the archive cannot sit whole in socket buffers.
    const big = await upload(alice, await fixtures.wav(), { name: 'Big', presets: 'wav-44k-16,flac-cd,mp3-128k' });
    await fileEnded(alice, big.id);
    const { deps } = srv.app;
    const chunk = Buffer.alloc(1024 * 1024, 0x5a);
    for (const row of await deps.store.outputs.listForFile(big.id)) {
      const size = await deps.blobs.put(row.blob_key, Readable.from((function* () {
        for (let i = 0; i < 24; i++) yield chunk;
      })()));
      await deps.store.outputs.upsert({ ...row, size });
    }

    const realGet = deps.blobs.get.bind(deps.blobs);
    const opened: Readable[] = [];
    const stillOpen = new Set<Readable>();
    deps.blobs.get = async (key, range) => {
      const stream = await realGet(key, range);
      opened.push(stream);
      stillOpen.add(stream);
      stream.once('close', () => stillOpen.delete(stream));
      return stream;
    };
    try {
      const received = await new Promise<number>((resolve, reject) => {
        const req = http.get(`${srv.url}/api/v1/files/${big.id}/outputs.zip`, { headers: { authorization: `Bearer ${alice.token}` } }, (res) => {
          let bytes = 0;
          res.on('data', (data: Buffer) => {
            bytes += data.length;
            // Well into the first entry: hang up.
            if (bytes > 2 * 1024 * 1024) {
              req.destroy();
              resolve(bytes);
            }
          });
          res.on('end', () => reject(new Error('the whole archive arrived; the test needs bigger entries')));
        });
        req.on('error', () => undefined);
      });
      assert.ok(received < 24 * 1024 * 1024);
      await waitFor('every blob read to close', async () => (stillOpen.size === 0 && opened.length > 0 ? true : undefined), 10_000);
      assert.equal(opened.length, 1, 'the entries after the one being sent were never opened');
      assert.ok(opened.every((s) => s.destroyed), 'the read was stopped, not left paused');
      if (!srv.env.S3_BUCKET) {
        const fds = await readdir('/proc/self/fd');
        const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
        assert.deepEqual(targets.filter((t) => t.startsWith(path.join(srv.dataDir, 'blobs'))), [], 'no file of the store is left open');
      }
      // The server is fine afterwards.
      const again = await download(alice, 'GET', `/files/${big.id}/outputs.zip`);
      assert.equal(again.res.status, 200);
      assert.equal((await unzipArchive(again.bytes)).names.length, 3);
    } finally {
      deps.blobs.get = realGet;
    }
  });
});
