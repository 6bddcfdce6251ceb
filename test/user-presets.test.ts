import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ffprobe, fixtures } from './helpers/audio.ts';
import { ApiClient, PageClient, type FileJson } from './helpers/clients.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { tusUpload } from './helpers/tus.ts';
import { readFile } from 'node:fs/promises';
import { fileEnded } from './helpers/files.ts';

interface PresetJson {
  id: string;
  label: string;
  own: boolean;
  extension: string;
  code?: string;
  field?: string;
}

/**
 * Presets of one's own, end to end: made over the API, offered on the upload form, used by a
 * real transcode whose output ffprobe checks, private to their owner, and outlived by the
 * outputs made with them. In scale-out mode when run under test/support/with-services.ts.
 */
describe('presets of one\'s own', () => {
  let srv: TestServer;
  let alice: ApiClient;
  let bob: ApiClient;
  before(async () => {
    srv = await startServer();
    alice = await ApiClient.signUp(srv.url, 'alice');
    bob = await ApiClient.signUp(srv.url, 'bob');
  });
  after(() => srv.close());

  const create = async (client: ApiClient, body: Record<string, unknown>) => {
    const res = await client.json<PresetJson>('POST', '/presets', body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.match(res.body.id, /^u-[0-9a-f-]{36}$/);
    return res.body;
  };

  it('made, listed, offered on the upload form, used by a transcode, and outlived by its outputs', async () => {
    const flac = await create(alice, { label: 'Mono FLAC 48k/24', codec: 'flac', sampleRate: 48000, channels: 1, bitDepth: 24 });
    const opus = await create(alice, { label: 'Opus speech', codec: 'opus', bitRate: 32000, channels: 1 });

    const mine = await alice.json<{ presets: PresetJson[] }>('GET', '/presets');
    assert.deepEqual(mine.body.presets.filter((p) => p.own).map((p) => p.id), [flac.id, opus.id]);
    assert.ok(mine.body.presets.some((p) => p.id === 'flac-cd' && !p.own), 'the built-in ones stay');
    const anonymous = await new ApiClient(srv.url).json<{ presets: PresetJson[] }>('GET', '/presets');
    assert.equal(anonymous.status, 200);
    assert.ok(anonymous.body.presets.length > 0 && anonymous.body.presets.every((p) => !p.own), 'anonymous callers see built-ins only');
    assert.equal((await alice.json<PresetJson>('GET', `/presets/${flac.id}`)).body.label, 'Mono FLAC 48k/24');

    const page = await PageClient.signUp(srv.url, 'carol');
    const carolsPreset = await page.fetch('/api/v1/presets', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ label: 'x', codec: 'wav' }),
    });
    assert.equal(carolsPreset.status, 401, 'a cookie alone cannot make a preset over the API');
    const carol = await ApiClient.signUp(srv.url, 'carol2');
    const hers = await create(carol, { label: 'Carol\'s ALAC', codec: 'alac' });
    const carolPage = new PageClient(srv.url);
    await carolPage.get('/login');
    await carolPage.post('/login', { username: 'carol2', password: 'correct horse battery' });
    const form = await carolPage.get('/files');
    assert.equal(form.status, 200);
    assert.ok(form.html.includes(`value="${hers.id}"`), 'the upload form offers her own preset');
    assert.ok(!form.html.includes(`value="${flac.id}"`), 'and not someone else\'s');

    const up = await alice.upload(await fixtures.hiRes(), { presets: `${flac.id},${opus.id},flac-cd` });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const done = await fileEnded(alice, up.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.deepEqual(done.outputs.map((o) => o.preset), [flac.id, opus.id, 'flac-cd']);

    const dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-own-'));
    const fetchOutput = async (preset: string) => {
      const res = await alice.request('GET', `/files/${done.id}/outputs/${preset}`);
      assert.equal(res.status, 200);
      const file = path.join(dir, `${preset}.bin`);
      await writeFile(file, Buffer.from(await res.arrayBuffer()));
      return { res, info: await ffprobe(file) };
    };
    const flacOut = await fetchOutput(flac.id);
    const flacStream = flacOut.info.streams.find((s) => s.codec_type === 'audio');
    assert.deepEqual([flacStream?.codec_name, flacStream?.sample_rate, flacStream?.channels, flacStream?.bits_per_raw_sample], ['flac', '48000', 1, '24']);
    const opusOut = await fetchOutput(opus.id);
    const opusStream = opusOut.info.streams.find((s) => s.codec_type === 'audio');
    assert.deepEqual([opusStream?.codec_name, opusStream?.sample_rate, opusStream?.channels], ['opus', '48000', 1]);
    // Two outputs share .flac, so each is named for its preset, as with built-in ones.
    assert.match(flacOut.res.headers.get('content-disposition') ?? '', new RegExp(`hires-${flac.id}\\.flac`));

    for (const id of [flac.id, opus.id]) assert.equal((await alice.request('DELETE', `/presets/${id}`)).status, 204);
    assert.equal((await alice.json('GET', `/presets/${flac.id}`)).status, 404);

    const after = await alice.json<Omit<FileJson, 'outputs'> & { outputs: { label: string; extension: string }[] }>('GET', `/files/${done.id}`);
    const labels = after.body.outputs.map((o) => [o.label, o.extension]);
    assert.deepEqual(labels.slice(0, 2), [['Mono FLAC 48k/24', 'flac'], ['Opus speech', 'opus']], 'the file view keeps what it was made with');
    const opusAgain = await alice.request('GET', `/files/${done.id}/outputs/${opus.id}`);
    assert.equal(opusAgain.status, 200);
    assert.equal(opusAgain.headers.get('content-type'), 'audio/ogg; codecs=opus');
    assert.match(opusAgain.headers.get('content-disposition') ?? '', /hires\.opus/);
    const zip = await alice.request('GET', `/files/${done.id}/outputs.zip`);
    assert.equal(zip.status, 200);
    const archive = Buffer.from(await zip.arrayBuffer()).toString('latin1');
    assert.ok(archive.includes('hires.opus') && archive.includes(`hires-${flac.id}.flac`), 'the ZIP names them as before');
  });

  it('edits a preset; a refused edit changes nothing', async () => {
    const mp3 = await create(alice, { label: 'MP3 for the car', codec: 'mp3', bitRate: 128000 });
    const edited = await alice.json<PresetJson & { spec: Record<string, unknown> }>('PATCH', `/presets/${mp3.id}`, { label: 'MP3 low', bitRate: 64000 });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    assert.deepEqual([edited.body.label, edited.body.spec.bitRate, edited.body.spec.codec], ['MP3 low', 64000, 'mp3']);
    const bad = await alice.json<PresetJson>('PATCH', `/presets/${mp3.id}`, { codec: 'opus', sampleRate: 44100 });
    assert.deepEqual([bad.status, bad.body.field], [422, 'sampleRate']);
    assert.equal((await alice.json<PresetJson>('GET', `/presets/${mp3.id}`)).body.label, 'MP3 low', 'a refused edit changes nothing');
  });

  it('refuses combinations the codec cannot do with a 422 naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ codec: 'opus', sampleRate: 44100 }, 'sampleRate'],
      [{ codec: 'mp3', bitRate: 500000 }, 'bitRate'],
      [{ codec: 'aac', bitDepth: 24 }, 'bitDepth'],
      [{ codec: 'wma' }, 'codec'],
      [{ codec: 'flac', channels: 3 }, 'channels'],
      [{ codec: 'vorbis', quality: 12 }, 'quality'],
      [{ codec: 'mp3', bitRate: 128000, quality: 2 }, 'quality'],
      [{ codec: 'flac', label: '' }, 'label'],
    ];
    for (const [body, field] of cases) {
      const res = await alice.json<PresetJson>('POST', '/presets', { label: 'bad', ...body });
      assert.equal(res.status, 422, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(res.body.field, field, JSON.stringify(body));
      assert.equal(res.body.code, 'invalid_preset');
    }
  });

  it('keeps own presets private: another user\'s id is unknown everywhere', async () => {
    const secret = await create(alice, { label: 'Alice only', codec: 'wav', bitDepth: 16 });
    assert.equal((await bob.json('GET', `/presets/${secret.id}`)).status, 404);
    assert.equal((await bob.json('PATCH', `/presets/${secret.id}`, { label: 'mine now' })).status, 404);
    assert.equal((await bob.json('DELETE', `/presets/${secret.id}`)).status, 404);
    const listed = await bob.json<{ presets: PresetJson[] }>('GET', '/presets');
    assert.ok(!listed.body.presets.some((p) => p.id === secret.id));
    const up = await bob.upload(await fixtures.wav(), { presets: secret.id });
    assert.deepEqual([up.status, up.body.code], [422, 'unknown_preset']);
    assert.equal((await alice.json<PresetJson>('GET', `/presets/${secret.id}`)).body.label, 'Alice only', 'still there, unchanged');
  });

  it('the Presets page makes, changes and deletes them with CSRF-checked forms, without JavaScript', async () => {
    const page = await PageClient.signUp(srv.url, 'dora');
    const empty = await page.get('/presets');
    assert.equal(empty.status, 200);
    const forged = await page.post('/presets', { label: 'x', codec: 'flac' }, { csrf: false });
    assert.equal(forged.status, 403, 'no CSRF token, no preset');

    const refused = await page.post('/presets', { label: 'Opus CD', codec: 'opus', sampleRate: '44100', bitRateKbps: '', quality: '', channels: '', bitDepth: '' });
    assert.equal(refused.status, 422);
    assert.match(refused.text, /sampleRate/, 'the page names the field');

    const made = await page.post('/presets', { label: 'Speech MP3', codec: 'mp3', bitRateKbps: '64', quality: '', sampleRate: '', channels: '1', bitDepth: '' });
    assert.deepEqual([made.status, made.location], [303, '/presets']);
    const listed = await page.get('/presets');
    const id = /data-preset-id="(u-[0-9a-f-]{36})"/.exec(listed.html)?.[1];
    assert.ok(id && listed.html.includes('Speech MP3'));
    const view = await page.fetch(`/api/v1/presets/${id}`, { method: 'GET' });
    assert.deepEqual(((await view.json()) as { spec: unknown }).spec, { label: 'Speech MP3', codec: 'mp3', bitRate: 64000, channels: 1 });

    const changed = await page.post(`/presets/${id}`, { label: 'Speech MP3 (stereo)', codec: 'mp3', bitRateKbps: '96', quality: '', sampleRate: '', channels: '', bitDepth: '' });
    assert.equal(changed.status, 303);
    const form = await page.get('/files');
    assert.ok(form.html.includes(`value="${id}"`) && form.html.includes('Speech MP3 (stereo)'), 'offered on the upload form');

    assert.equal((await page.post(`/presets/${id}/delete`, {})).status, 303);
    assert.ok(!(await page.get('/presets')).html.includes(`data-preset-id="${id}"`));
  });

  it('are chosen in a resumable (tus) upload\'s metadata too, by their owner only', async () => {
    const alac = await create(alice, { label: 'ALAC 16', codec: 'alac', bitDepth: 16 });
    const source = await readFile(await fixtures.wav());
    const mine = await tusUpload(srv.url, source, { headers: { authorization: `Bearer ${alice.token}` }, metadata: { filename: 'tone.wav', presets: alac.id } });
    assert.ok(mine.fileId, JSON.stringify(mine));
    const done = await fileEnded(alice, mine.fileId);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.deepEqual(done.outputs.map((o) => [o.preset, o.mimeType]), [[alac.id, 'audio/mp4']]);
    const theirs = await tusUpload(srv.url, source, { headers: { authorization: `Bearer ${bob.token}` }, metadata: { filename: 'tone.wav', presets: alac.id } });
    assert.equal(theirs.status, 422);
    assert.match(theirs.body ?? '', /unknown_preset/);
  });
});
