import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiClient, PageClient } from './helpers/clients.ts';
import { fixtures } from './helpers/audio.ts';
import { listStoredBlobs } from './helpers/backends.ts';
import { head, rawRequest } from './helpers/raw-http.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { fileEnded } from './helpers/files.ts';

const count = async (srv: TestServer, table: 'files' | 'sessions') =>
  Number((await srv.app.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

const up = async (srv: TestServer) => assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);

/** A multipart body by hand, so it can be broken in ways FormData never would. */
function multipart(boundary: string, parts: string[], close = true): Buffer {
  return Buffer.from(parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('') + (close ? `--${boundary}--\r\n` : ''), 'latin1');
}

describe('hardening: hostile requests get clear answers and never take the server down', () => {
  let srv: TestServer;
  let api: ApiClient;
  let page: PageClient;

  before(async () => {
    srv = await startServer({ UPLOAD_IDLE_SECONDS: '2', EVENT_STREAMS_PER_USER: '2' });
    api = await ApiClient.signUp(srv.url, 'hardy');
    page = await PageClient.signUp(srv.url, 'pagey');
  });
  after(() => srv.close());

  it('signs in with a next= the Location header cannot carry, and stays up', async () => {
    const visitor = new PageClient(srv.url);
    const cases: [string, string][] = [
      ['/files/✓', '/files/%E2%9C%93'],
      ['/files/\r\nSet-Cookie: x=1', '/files'],
      ['/\t/evil.example/', '/files'],
      ['//evil.example/', '/files'],
      ['/\\evil.example', '/files'],
      ['https://evil.example/', '/files'],
      ['/files/\u202eevil', '/files'],
      ['/files?x=%20ok', '/files?x=%20ok'],
    ];
    for (const [next, expected] of cases) {
      await visitor.get(`/login?next=${encodeURIComponent(next)}`);
      const res = await visitor.post('/login', { username: 'pagey', password: 'correct horse battery', next });
      assert.equal(res.status, 303, next);
      assert.equal(res.location, expected, JSON.stringify(next));
      await up(srv);
    }
    await page.get('/files');
    const dismiss = await page.post('/notifications/dismiss-all', { next: '/files/✓' });
    assert.equal(dismiss.status, 303);
    assert.equal(dismiss.location, '/files/%E2%9C%93');
    await up(srv);
  });

  it('reads absolute-form targets as paths and answers 404 to "*", never 500', async () => {
    const connect = await rawRequest(srv.url, ['CONNECT /login HTTP/1.1\r\nHost: x\r\n\r\n']);
    assert.equal(connect.status, 405, 'CONNECT is answered, not dropped');
    const cases: [string, number][] = [['*', 404], ['http://evil.example/api/v1/presets', 200], ['http://evil.example', 303], ['ftp://x/', 404], ['//x/files', 404]];
    for (const [target, status] of cases) {
      for (const method of ['GET', 'POST', 'OPTIONS']) {
        const res = await rawRequest(srv.url, [`${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`]);
        assert.ok(res.status >= 200 && res.status < 500, `${method} ${target}: ${res.status}`);
        if (method === 'GET') assert.equal(res.status, status, target);
      }
    }
    await up(srv);
  });

  it('answers 400 to multipart without a boundary, or without its closing boundary', async () => {
    const noBoundary = Buffer.from('--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nhi\r\n--x--\r\n');
    const a = await rawRequest(srv.url, [head('POST', '/api/v1/files', { Authorization: `Bearer ${api.token}`, 'Content-Type': 'multipart/form-data' }, noBoundary.length), noBoundary]);
    assert.equal(a.status, 400, a.head);
    assert.match(a.body, /malformed_multipart|not well-formed/);

    const file = 'Content-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\nRIFFxxxx';
    const unclosed = multipart('b0undary', [file], false);
    const b = await rawRequest(srv.url, [head('POST', '/api/v1/files', { Authorization: `Bearer ${api.token}`, 'Content-Type': 'multipart/form-data; boundary=b0undary' }, unclosed.length), unclosed]);
    assert.equal(b.status, 400, b.head);
    assert.equal(await count(srv, 'files'), 0);
    await up(srv);
  });

  it('answers within seconds when a filename* with CR/LF stalls the multipart parser', async () => {
    const bad = `Content-Disposition: form-data; name="file"; filename*=UTF-8''a%0D%0Ab.wav\r\nContent-Type: audio/wav\r\n\r\n${'x'.repeat(3 * 1024 * 1024)}`;
    const body = multipart('zzBOUNDzz', [bad, 'Content-Disposition: form-data; name="name"\r\n\r\nafter']);
    const res = await rawRequest(srv.url, [head('POST', '/api/v1/files', { Authorization: `Bearer ${api.token}`, 'Content-Type': 'multipart/form-data; boundary=zzBOUNDzz' }, body.length), body], { timeoutMs: 15_000 });
    assert.equal(res.timedOut, false, 'no answer within 15 s');
    assert.ok(res.status >= 400 && res.status < 500, res.head);
    assert.equal(await count(srv, 'files'), 0);
    await up(srv);
  });

  it('cuts an upload that trickles and removes its partial bytes', async () => {
    const wav = await fixtures.wav();
    const form = multipart('trickle', ['Content-Disposition: form-data; name="file"; filename="slow.wav"\r\nContent-Type: audio/wav\r\n\r\n']);
    const declared = form.length + 400_000;
    const chunks: (string | Buffer)[] = [head('POST', '/api/v1/files', { Authorization: `Bearer ${api.token}`, 'Content-Type': 'multipart/form-data; boundary=trickle' }, declared)];
    chunks.push(form.subarray(0, form.length - '\r\n--trickle--\r\n'.length - 2), Buffer.from(wav.slice(0, 0)));
    for (let i = 0; i < 40; i++) chunks.push(Buffer.from([i]));
    const res = await rawRequest(srv.url, chunks, { gapMs: 500, timeoutMs: 20_000 });
    assert.equal(res.timedOut, false, 'the trickling upload was kept open');
    assert.ok(res.elapsedMs < 10_000, `cut after ${res.elapsedMs} ms`);
    await waitFor('partial bytes removed', async () => {
      const incoming = await readdir(path.join(srv.dataDir, 'blobs', 'incoming')).catch(() => []);
      const stored = await listStoredBlobs(srv.env, srv.dataDir);
      return incoming.length === 0 && stored.length === 0 ? true : undefined;
    }, 10_000);
    assert.equal(await count(srv, 'files'), 0);
    await up(srv);
  });

  it('tells a too-large JSON body the JSON limit, not the upload limit', async () => {
    const res = await api.request('POST', '/tokens', { username: 'x'.repeat(2 * 1024 * 1024), password: 'y' });
    assert.equal(res.status, 413);
    const body = (await res.json()) as { detail: string; code: string };
    assert.equal(body.code, 'body_too_large');
    assert.match(body.detail, /1(\.0)? MB/);
    assert.doesNotMatch(body.detail, /GB/);
  });

  it('answers 404 to ids that cannot be ids (NUL, CR/LF, overlong, path tricks)', async () => {
    for (const id of ['%00', 'a%0D%0Ab', 'x'.repeat(5000), '..%2F..%2Fetc%2Fpasswd', '%E2%9C%93', '%ED%A0%80']) {
      const res = await api.request('GET', `/files/${id}`);
      // Fastify itself answers 414 to a parameter past its length limit and 400 to percent-escapes
      // that are not UTF-8: clean refusals too.
      const refusal = (status: number) => status === 404 || (status === 414 && id.length > 1000) || (status === 400 && id === '%ED%A0%80');
      assert.ok(refusal(res.status), `${id}: ${res.status}`);
      const dismiss = await page.post(`/notifications/${id}/dismiss`, {});
      assert.ok(refusal(dismiss.status), `${id}: ${dismiss.status}`);
    }
    await up(srv);
  });

  it('cleans names: no NUL, controls or bidi overrides; cut on code points keeping the extension', async () => {
    const wav = await fixtures.wav();
    const nul = await api.upload(wav, { name: 'a\u0000b\u202ec\r\nd' }, 'evil\u202egpj.wav');
    assert.equal(nul.status, 201, JSON.stringify(nul.body));
    assert.equal(nul.body.name, 'a b c d');
    const long = await api.upload(wav, {}, `${'🎵'.repeat(300)}.flac`);
    assert.equal(long.status, 201);
    const name = long.body.name;
    assert.ok(name.endsWith('.flac'), name);
    assert.ok(Array.from(name).length <= 200);
    assert.equal(/[\ud800-\udbff](?![\udc00-\udfff])/.test(name), false, 'a lone surrogate');
    const files = await api.json<{ files: { name: string }[] }>('GET', '/files');
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    assert.ok(files.body.files.every((f) => !/[\u0000-\u001f\u202a-\u202e\u2066-\u2069]/.test(f.name)));
  });

  it('serves ranges as RFC 9110 says: invalid ignored, long suffix is the whole file', async () => {
    const upload = await api.upload(await fixtures.wav(), { presets: 'flac-cd' });
    const file = await fileEnded(api, upload.body.id);
    assert.equal(file.status, 'completed', file.error ?? '');
    const output = file.outputs[0];
    assert.ok(output);
    const get = (range: string) => fetch(`${srv.url}${output.url}`, { headers: { authorization: `Bearer ${api.token}`, range } });
    const backwards = await get('bytes=5-1');
    assert.equal(backwards.status, 200);
    assert.equal(Number(backwards.headers.get('content-length')), output.size);
    const suffix = await get('bytes=-999999999');
    assert.equal(suffix.status, 206);
    assert.equal(suffix.headers.get('content-range'), `bytes 0-${output.size - 1}/${output.size}`);
    const past = await get(`bytes=${output.size}-`);
    assert.equal(past.status, 416);
    const garbage = await get('bytes=abc');
    assert.equal(garbage.status, 200);
    const ok = await get('bytes=0-9');
    assert.equal(ok.status, 206);
    assert.equal((await ok.arrayBuffer()).byteLength, 10);
  });

  it('stores no session for anonymous pages, only where a form needs a CSRF token', async () => {
    const before = await count(srv, 'sessions');
    for (let i = 0; i < 20; i++) {
      await fetch(`${srv.url}/nothing-here-${i}`);
      await fetch(`${srv.url}/`, { redirect: 'manual' });
      await fetch(`${srv.url}/files`, { redirect: 'manual' });
    }
    assert.equal(await count(srv, 'sessions'), before);
    const login = await fetch(`${srv.url}/login`);
    assert.equal(login.status, 200);
    assert.match(login.headers.get('set-cookie') ?? '', /reprise_session=/);
    assert.equal(await count(srv, 'sessions'), before + 1);
  });

  it('caps event streams per user at the setting (429 past it), freeing a slot on close', async () => {
    const open = (signal: AbortSignal) => fetch(`${srv.url}/api/v1/events`, { headers: { authorization: `Bearer ${api.token}` }, signal });
    const first = new AbortController();
    const second = new AbortController();
    assert.equal((await open(first.signal)).status, 200);
    assert.equal((await open(second.signal)).status, 200);
    const third = await fetch(`${srv.url}/api/v1/events`, { headers: { authorization: `Bearer ${api.token}` } });
    assert.equal(third.status, 429);
    assert.equal(((await third.json()) as { code: string }).code, 'too_many_streams');
    first.abort();
    await waitFor('a slot freed', async () => {
      const again = new AbortController();
      const res = await open(again.signal);
      again.abort();
      return res.status === 200 ? true : undefined;
    }, 10_000);
    second.abort();
    const other = await ApiClient.signUp(srv.url, 'otherstream');
    const theirs = new AbortController();
    assert.equal((await fetch(`${srv.url}/api/v1/events`, { headers: { authorization: `Bearer ${other.token}` }, signal: theirs.signal })).status, 200);
    theirs.abort();
  });

  it('answers HEAD on the event stream at once instead of holding it open', async () => {
    const res = await rawRequest(srv.url, [`HEAD /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${api.token}\r\n\r\n`], { timeoutMs: 5_000 });
    assert.equal(res.status, 200);
    assert.match(res.head, /content-type: text\/event-stream/i);
  });

  it('ignores a Last-Event-ID that is not a small number instead of failing the stream', async () => {
    for (const id of ['99999999999999999999999', '-1', '1e400', 'abc']) {
      const ctl = new AbortController();
      const res = await fetch(`${srv.url}/api/v1/events`, { headers: { authorization: `Bearer ${api.token}`, 'last-event-id': id }, signal: ctl.signal });
      assert.equal(res.status, 200);
      const reader = res.body?.getReader();
      const first = await reader?.read();
      ctl.abort();
      assert.match(new TextDecoder().decode(first?.value), /retry|ready/);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});

describe('a probe that never finishes', () => {
  it('is killed after STALL_TIMEOUT_SECONDS and the upload refused, nothing kept', async (t) => {
    // No real file is known to make Debian's ffprobe spin forever, so a program that hangs
    // stands in for one: what is tested is our timeout, not ffprobe.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-hang-'));
    const hang = path.join(dir, 'ffprobe-that-hangs');
    await writeFile(hang, '#!/bin/sh\nexec sleep 60\n', { mode: 0o755 });
    const srv = await startServer({ FFPROBE_PATH: hang, STALL_TIMEOUT_SECONDS: '1' });
    t.after(async () => {
      await srv.close();
      await rm(dir, { recursive: true, force: true });
    });
    const api = await ApiClient.signUp(srv.url, 'prober');
    const started = Date.now();
    const res = await api.upload(await fixtures.wav());
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(res.body.detail ?? '', /took too long/);
    assert.ok(Date.now() - started < 10_000);
    assert.equal(await count(srv, 'files'), 0);
    assert.deepEqual(await listStoredBlobs(srv.env, srv.dataDir), []);
  });
});

describe('a client that sends its headers slowly', () => {
  it('is cut after HEADERS_TIMEOUT_SECONDS, not held open, and the server keeps serving', async (t) => {
    const srv = await startServer({ HEADERS_TIMEOUT_SECONDS: '2' });
    t.after(() => srv.close());
    // One header line every half second, never the blank line that ends them: a slowloris.
    const lines = Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: ${'a'.repeat(10)}\r\n`);
    const res = await rawRequest(srv.url, ['GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', ...lines], { gapMs: 500, timeoutMs: 20_000 });
    assert.equal(res.timedOut, false, 'the server never closed the connection');
    assert.ok(res.elapsedMs < 6_000, `held for ${res.elapsedMs} ms with a 2 s limit`);
    assert.ok(res.status === 408 || res.status === 0, res.head);
    await up(srv);
  });
});

describe('a client that keeps its connection between requests', () => {
  it('finds it still open after a pause longer than clients assume (Node alone would close it after 5 s)', async (t) => {
    const srv = await startServer();
    t.after(() => srv.close());
    // fetch keeps connections 4 s by default; the server must not close first, or a request
    // sent as the server closes is reset (ECONNRESET) rather than answered.
    const ask = (connection: string) => `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: ${connection}\r\n\r\n`;
    const res = await rawRequest(srv.url, [ask('keep-alive'), ask('close')], { gapMs: 6_000, timeoutMs: 20_000 });
    const answers = `${res.head}\r\n\r\n${res.body}`.match(/HTTP\/1\.1 200/g) ?? [];
    assert.equal(answers.length, 2, `answered ${answers.length} of 2 on one connection:\n${res.head}`);
    assert.equal(res.timedOut, false);
  });
});
