import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { inputKey } from '../src/domain/uploads.ts';
import { fixtures } from './helpers/audio.ts';
import { backend, listStoredBlobs } from './helpers/backends.ts';
import { ApiClient } from './helpers/clients.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { readAll, tusUpload } from './helpers/tus.ts';
import { fileEnded } from './helpers/files.ts';

const tus = { 'tus-resumable': '1.0.0' };
const meta = (filename: string) => `filename ${Buffer.from(filename).toString('base64')},presets ${Buffer.from('flac-cd').toString('base64')}`;

/** A PATCH that sends the first `sent` bytes of `body` and then keeps the connection open, saying nothing more. */
function stalledPatch(url: string, path: string, token: string, offset: number, body: Buffer, sent: number) {
  const { port, hostname } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.on('error', () => undefined);
  socket.write(
    `PATCH ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\nTus-Resumable: 1.0.0\r\n` +
      `Upload-Offset: ${offset}\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: ${body.length - offset}\r\n\r\n`,
  );
  socket.write(body.subarray(offset, offset + sent));
  return socket;
}

async function create(srv: TestServer, token: string, size: number) {
  const res = await fetch(`${srv.url}/api/v1/uploads`, { method: 'POST', headers: { ...tus, authorization: `Bearer ${token}`, 'upload-length': String(size), 'upload-metadata': meta('long.wav') } });
  assert.equal(res.status, 201);
  return res.headers.get('location') ?? '';
}

const offsetOn = async (srv: TestServer, path: string, token: string) => {
  const res = await fetch(`${srv.url}${path}`, { method: 'HEAD', headers: { ...tus, authorization: `Bearer ${token}` } });
  return res.status === 200 ? Number(res.headers.get('upload-offset')) : -res.status;
};

async function finishOn(srv: TestServer, path: string, token: string, source: Buffer, offset: number) {
  const res = await fetch(`${srv.url}${path}`, {
    method: 'PATCH',
    headers: { ...tus, authorization: `Bearer ${token}`, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
    body: new Uint8Array(source.subarray(offset)),
  });
  assert.equal(res.status, 204, await res.text());
  return res.headers.get('reprise-file-id') ?? '';
}

describe('resumable uploads: what a dropped or stalled request leaves', () => {
  let srv: TestServer;
  let api: ApiClient;
  let source: Buffer;

  before(async () => {
    srv = await startServer();
    api = await ApiClient.signUp(srv.url, 'dropper');
    source = await readFile(await fixtures.longWav());
  });
  after(() => srv.close());

  it('keeps every byte that arrived before the connection dropped, more than one stored piece of them', async () => {
    const path = await create(srv, api.token, source.length);
    const sent = 9 * 1024 * 1024 + 12345;
    const socket = stalledPatch(srv.url, path, api.token, 0, source, sent);
    await new Promise((resolve) => setTimeout(resolve, 500));
    socket.destroy();
    const offset = await waitFor('the received bytes counted', async () => ((await offsetOn(srv, path, api.token)) === sent ? sent : undefined), 15_000);
    const fileId = await finishOn(srv, path, api.token, source, offset);
    assert.ok(fileId);
    const stored = await readAll(await srv.app.deps.blobs.get(inputKey(fileId)));
    assert.equal(Buffer.compare(stored, source), 0, 'stored input differs from the source');
    if (!srv.app.deps.blobs.local) {
      const left = (await listStoredBlobs(srv.env, srv.dataDir)).filter((k) => k.startsWith('resumable/'));
      assert.deepEqual(left, [], 'no piece of the finished upload is left in the bucket');
    }
  });

  it('a second request for the same upload takes it over from a stalled one within seconds', async () => {
    const path = await create(srv, api.token, source.length);
    const socket = stalledPatch(srv.url, path, api.token, 0, source, 1_000_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const offset = await waitFor('the stalled request let go', async () => {
      const o = await offsetOn(srv, path, api.token);
      return o > 0 ? o : undefined;
    }, 15_000);
    socket.destroy();
    assert.equal(offset, 1_000_000);
    assert.ok(await finishOn(srv, path, api.token, source, offset));
  });
});

describe('resumable uploads across web processes (PostgreSQL + S3)', { skip: !(backend.pgAdminUrl && backend.s3Endpoint) && 'needs the scale-out services' }, () => {
  let one: TestServer;
  let two: TestServer;
  let api: ApiClient;
  let source: Buffer;

  before(async () => {
    one = await startServer();
    // The same database and bucket, its own data folder and port: another web process.
    const shared = Object.fromEntries(Object.entries(one.env).filter(([k]) => k !== 'DATA_DIR'));
    two = await startServer(shared);
    api = await ApiClient.signUp(one.url, 'traveller');
    source = await readFile(await fixtures.longWav());
  });
  after(async () => {
    await two.close();
    await one.close();
  });

  it('an upload interrupted at half on one process resumes on the other (tus-js-client) and is stored byte for byte', async () => {
    const auth = { authorization: `Bearer ${api.token}` };
    const first = await tusUpload(one.url, source, { headers: auth, metadata: { filename: 'long.wav', name: 'Travelled', presets: 'flac-cd' }, abortAt: 0.5, chunkSize: 1024 * 1024 });
    assert.ok(first.url);
    const path = new URL(first.url, one.url).pathname;
    const offset = await offsetOn(two, path, api.token);
    assert.ok(offset > source.length * 0.4 && offset < source.length, `offset ${offset} of ${source.length}`);
    const second = await tusUpload(two.url, source, { headers: auth, metadata: { filename: 'long.wav' }, uploadUrl: `${two.url}${path}` });
    assert.ok(second.fileId, JSON.stringify(second));
    const stored = await readAll(await two.app.deps.blobs.get(inputKey(second.fileId)));
    assert.equal(Buffer.compare(stored, source), 0, 'stored input differs from the source');
    const file = await fileEnded(api, second.fileId, 120_000);
    assert.equal(file.status, 'completed', file.error ?? '');
    assert.equal(file.name, 'Travelled');
  });

  it('a request stalled on one process is taken over by a resume on the other, keeping what it received', async () => {
    const path = await create(one, api.token, source.length);
    const socket = stalledPatch(one.url, path, api.token, 0, source, 2_000_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The other process asks the holder to let go through PostgreSQL, then answers.
    const offset = await waitFor('the stalled request on the first process let go', async () => {
      const o = await offsetOn(two, path, api.token);
      return o > 0 ? o : undefined;
    }, 15_000);
    socket.destroy();
    assert.equal(offset, 2_000_000);
    const fileId = await finishOn(two, path, api.token, source, offset);
    const stored = await readAll(await one.app.deps.blobs.get(inputKey(fileId)));
    assert.equal(Buffer.compare(stored, source), 0);
    // Another user sees nothing of it on either process.
    const other = await ApiClient.signUp(two.url, 'onlooker');
    assert.equal(await offsetOn(two, path, other.token), -404);
  });
});
