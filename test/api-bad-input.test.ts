import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listStoredBlobs } from './helpers/backends.ts';
import { ApiClient } from './helpers/clients.ts';
import { fixtures } from './helpers/audio.ts';
import { startServer, type TestServer } from './helpers/server.ts';

/** Everything a refused upload could leave behind: stored objects, temp files, rows. */
async function leftovers(srv: TestServer): Promise<{ objects: string[]; files: number }> {
  const objects = await listStoredBlobs(srv.env, srv.dataDir);
  const files = await srv.app.db.selectFrom('files').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { objects, files: Number(files.n) };
}

/**
 * The upload is probed at once and refused (422, nothing kept): with remote storage, from the
 * copy the web process keeps on the way to the bucket.
 */
async function expectRefused(srv: TestServer, api: ApiClient, file: string, message: RegExp): Promise<void> {
  const res = await api.upload(file);
  assert.equal(res.status, 422, JSON.stringify(res.body));
  assert.equal(res.res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.match(res.body.detail ?? '', message);
  assert.deepEqual(await leftovers(srv), { objects: [], files: 0 });
}

describe('bad input gets a clear error and leaves nothing behind', () => {
  let srv: TestServer;
  let api: ApiClient;
  const empty = { objects: [], files: 0 };

  before(async () => {
    srv = await startServer({ MAX_UPLOAD_BYTES: String(200 * 1024) });
    api = await ApiClient.signUp(srv.url, 'mallory');
  });
  after(() => srv.close());

  const refusals: [string, () => Promise<string>, RegExp][] = [
    ['a text file', fixtures.text, /not audio|not in an audio format/i],
    ['a truncated file', fixtures.truncated, /not audio|no audio|damaged|cannot be decoded|empty or truncated/i],
    ['a video with no audio stream', fixtures.videoOnly, /no audio stream|not in an audio format/i],
    ['an HLS playlist pointing at /etc/passwd', fixtures.playlist, /playlist/i],
    ['an ffconcat list', fixtures.concat, /playlist|concat/i],
    ['a playlist named song.mp3', fixtures.disguisedPlaylist, /playlist/i],
  ];
  for (const [what, make, message] of refusals) {
    it(`refuses ${what}`, async () => {
      await expectRefused(srv, api, await make(), message);
    });
  }

  it('refuses an empty file at once', async () => {
    const res = await api.upload(await fixtures.empty());
    assert.equal(res.status, 422);
    assert.match(res.body.detail ?? '', /empty/i);
    assert.deepEqual(await leftovers(srv), empty);
  });

  it('refuses a file over the size limit with 413 and keeps nothing', async () => {
    const big = path.join(srv.dataDir, 'big.wav');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(big, Buffer.alloc(300 * 1024, 1));
    const res = await api.upload(big);
    assert.equal(res.status, 413);
    assert.match(res.body.detail ?? '', /larger than you may upload \(200 KB\)/);
    assert.deepEqual(await leftovers(srv), empty);
  });

  it('refuses a request without a file field', async () => {
    const form = new FormData();
    form.append('name', 'nothing');
    const res = await api.json<{ detail: string; code: string }>('POST', '/files', form);
    assert.equal(res.status, 422);
    assert.equal(res.body.code, 'missing_file');
  });

  it('refuses a request that is not multipart', async () => {
    const res = await api.json<{ code: string }>('POST', '/files', { file: 'x' });
    assert.equal(res.status, 415);
  });

  it('refuses unknown presets by name', async () => {
    const res = await api.upload(await fixtures.mp3WithCover(), { presets: 'flac-cd,nope,../../etc' });
    assert.equal(res.status, 422);
    assert.match(res.body.detail ?? '', /Unknown preset: nope, \.\.\/\.\.\/etc/);
    assert.deepEqual(await leftovers(srv), empty);
  });

  it('rejects missing fields in account and token requests', async () => {
    const anon = new ApiClient(srv.url);
    assert.equal((await anon.json('POST', '/accounts', { username: 'x' })).status, 422);
    assert.equal((await anon.json('POST', '/accounts', { password: 'long enough password' })).status, 422);
    assert.equal((await anon.json('POST', '/tokens', {})).status, 401);
    assert.equal((await anon.json('POST', '/accounts', { username: 'mallory', password: 'another password' })).status, 409);
  });

  it('answers 401 for a missing, malformed or unknown token', async () => {
    const anon = new ApiClient(srv.url);
    assert.equal((await anon.json('GET', '/files')).status, 401);
    anon.token = 'rp_not-a-real-token';
    const res = await anon.json<{ code: string }>('GET', '/files');
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'invalid_token');
  });

  it('never lets the transcoder read outside the upload', async () => {
    const { transcodeArgs, probeArgs } = await import('../src/media/ffmpeg-args.ts');
    const probe = probeArgs('/data/x');
    assert.ok(probe.includes('-protocol_whitelist') && probe[probe.indexOf('-protocol_whitelist') + 1] === 'file');
    assert.ok(!probe[probe.indexOf('-format_whitelist') + 1]?.split(',').some((f) => ['hls', 'concat', 'ffconcat'].includes(f)));
    const args = transcodeArgs('/data/in', { format: 'mp3', codec: 'mp3', durationMs: 1, sampleRate: 44100, channels: 2, bitRate: 0, hasCover: false }, []);
    assert.deepEqual(args.slice(args.indexOf('-f'), args.indexOf('-f') + 4), ['-f', 'mp3', '-i', 'file:/data/in']);
  });
});
