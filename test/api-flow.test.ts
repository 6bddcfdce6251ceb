import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from './helpers/clients.ts';
import { ffprobe, fixtures } from './helpers/audio.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { fileEnded } from './helpers/files.ts';

describe('upload → transcode → notify → download (JSON API)', () => {
  let srv: TestServer;
  let alice: ApiClient;

  before(async () => {
    srv = await startServer();
    alice = await ApiClient.signUp(srv.url, 'alice');
  });
  after(() => srv.close());

  it('transcodes the original three presets into what their names say', async () => {
    const up = await alice.upload(await fixtures.wav(), {});
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.equal(up.body.status, 'queued');
    assert.deepEqual(up.body.presets, ['wav-44k-16', 'flac-cd', 'aac-256k']);
    assert.deepEqual(up.body.outputs, [], 'no download link before the outputs exist');
    assert.equal(up.res.headers.get('location'), `/api/v1/files/${up.body.id}`);

    const done = await fileEnded(alice, up.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.equal(done.progress, 100);
    assert.deepEqual(done.outputs.map((o) => o.preset), ['wav-44k-16', 'flac-cd', 'aac-256k']);

    const expectations: Record<string, { codec: string; format: RegExp; fmt?: string }> = {
      'wav-44k-16': { codec: 'pcm_s16le', format: /wav/ },
      'flac-cd': { codec: 'flac', format: /flac/, fmt: 's16' },
      'aac-256k': { codec: 'aac', format: /mp4|m4a|mov/ },
    };
    for (const output of done.outputs) {
      const res = await alice.request('GET', `/files/${up.body.id}/outputs/${output.preset}`);
      assert.equal(res.status, 200);
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.equal(bytes.length, output.size);
      const file = path.join(srv.dataDir, `check-${output.preset}`);
      await writeFile(file, bytes);
      const probe = await ffprobe(file);
      const audio = probe.streams.find((s) => s.codec_type === 'audio');
      const want = expectations[output.preset];
      assert.ok(audio && want);
      assert.equal(audio.codec_name, want.codec, output.preset);
      assert.match(probe.format, want.format, output.preset);
      assert.equal(audio.sample_rate, '44100', output.preset);
      assert.equal(audio.channels, 2, output.preset);
      if (want.fmt) assert.equal(audio.sample_fmt, want.fmt);
      assert.ok(Math.abs(probe.durationMs - 4000) < 100, `${output.preset} lasts ${probe.durationMs} ms`);
      if (output.preset === 'aac-256k') {
        assert.ok(probe.bitRate > 200_000 && probe.bitRate < 300_000, `AAC at ${probe.bitRate} bit/s`);
      }
      assert.ok(Math.abs(output.durationMs - 4000) < 100);
    }
  });

  it('notifies the owner exactly once, and the notification links to the file', async () => {
    const up = await alice.upload(await fixtures.wav(), { name: 'Notify me', presets: 'mp3-128k' });
    await fileEnded(alice, up.body.id);
    const { body } = await alice.json<{ notifications: { id: string; fileId: string; message: string; kind: string }[] }>('GET', '/notifications?state=unread');
    const mine = body.notifications.filter((n) => n.fileId === up.body.id);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]?.message, 'Your file Notify me has been processed.');
    assert.equal(mine[0]?.kind, 'completed');
  });

  it('keeps tags and cover art, clamps sample rates, and runs Opus at 48 kHz', async () => {
    const up = await alice.upload(await fixtures.mp3WithCover(), { presets: 'flac-cd,opus-96k,mp3-v0' });
    const done = await fileEnded(alice, up.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    const probeOf = async (preset: string) => {
      const res = await alice.request('GET', `/files/${up.body.id}/outputs/${preset}`);
      const file = path.join(srv.dataDir, `cover-${preset}`);
      await writeFile(file, Buffer.from(await res.arrayBuffer()));
      return ffprobe(file);
    };
    const flac = await probeOf('flac-cd');
    assert.equal(flac.tags.title, 'Test Tone');
    assert.ok(flac.streams.some((s) => s.disposition?.attached_pic === 1), 'FLAC keeps the cover');
    assert.equal(flac.streams.find((s) => s.codec_type === 'audio')?.channels, 1, 'mono stays mono');
    const opus = await probeOf('opus-96k');
    assert.equal(opus.streams.find((s) => s.codec_type === 'audio')?.sample_rate, '48000');
    const mp3 = await probeOf('mp3-v0');
    assert.ok(Math.abs(mp3.durationMs - 3000) < 150, `MP3 duration ${mp3.durationMs} (needs a Xing header)`);
  });

  it('reduces 96 kHz 24-bit input to CD format for the CD presets', async () => {
    const up = await alice.upload(await fixtures.hiRes(), { presets: 'flac-cd,vorbis-q5' });
    const done = await fileEnded(alice, up.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    const res = await alice.request('GET', `/files/${up.body.id}/outputs/flac-cd`);
    const file = path.join(srv.dataDir, 'hires.flac');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const audio = (await ffprobe(file)).streams[0];
    assert.equal(audio?.sample_rate, '44100');
    assert.equal(audio?.sample_fmt, 's16');
    const vorbis = done.outputs.find((o) => o.preset === 'vorbis-q5');
    assert.ok(vorbis && vorbis.size > 0);
  });

  it('serves byte ranges (206), rejects unsatisfiable ones (416), and names the download', async () => {
    const up = await alice.upload(await fixtures.wav(), { presets: 'wav-44k-16,mp3-128k,mp3-320k' }, 'My Song.wav');
    const done = await fileEnded(alice, up.body.id);
    const wav = done.outputs.find((o) => o.preset === 'wav-44k-16');
    assert.ok(wav);
    const whole = Buffer.from(await (await alice.request('GET', wav.url.replace('/api/v1', ''))).arrayBuffer());

    const partial = await alice.request('GET', `/files/${up.body.id}/outputs/wav-44k-16`, undefined, { range: 'bytes=100-199' });
    assert.equal(partial.status, 206);
    assert.equal(partial.headers.get('content-range'), `bytes 100-199/${wav.size}`);
    assert.equal(partial.headers.get('accept-ranges'), 'bytes');
    assert.deepEqual(Buffer.from(await partial.arrayBuffer()), whole.subarray(100, 200));

    const suffix = await alice.request('GET', `/files/${up.body.id}/outputs/wav-44k-16`, undefined, { range: 'bytes=-10' });
    assert.equal(suffix.status, 206);
    assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), whole.subarray(whole.length - 10));

    const beyond = await alice.request('GET', `/files/${up.body.id}/outputs/wav-44k-16`, undefined, { range: `bytes=${wav.size + 10}-` });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${wav.size}`);

    const full = await alice.request('GET', `/files/${up.body.id}/outputs/wav-44k-16`);
    assert.match(full.headers.get('content-disposition') ?? '', /attachment; filename="My Song.wav"/);
    assert.equal(full.headers.get('content-type'), 'audio/wav');
    const mp3 = await alice.request('GET', `/files/${up.body.id}/outputs/mp3-320k?inline=1`);
    assert.match(mp3.headers.get('content-disposition') ?? '', /inline; filename="My Song-mp3-320k.mp3"/);
    await mp3.arrayBuffer();
  });

  it('deletes a file with its outputs', async () => {
    const up = await alice.upload(await fixtures.wav(), { presets: 'mp3-128k' });
    const done = await fileEnded(alice, up.body.id);
    const key = `files/${up.body.id}`;
    assert.ok(await srv.app.deps.blobs.stat(`${key}/input`));
    const del = await alice.request('DELETE', `/files/${up.body.id}`);
    assert.equal(del.status, 204);
    assert.equal((await alice.request('GET', `/files/${up.body.id}`)).status, 404);
    assert.equal((await alice.request('GET', done.outputs[0]!.url.replace('/api/v1', ''))).status, 404);
    assert.equal(await srv.app.deps.blobs.stat(`${key}/input`), undefined, 'input removed');
    assert.equal((await alice.request('DELETE', `/files/${up.body.id}`)).status, 404);
  });

  it('lists presets and serves an OpenAPI document', async () => {
    const presets = await alice.json<{ presets: { id: string; default: boolean }[] }>('GET', '/presets');
    assert.deepEqual(presets.body.presets.filter((p) => p.default).map((p) => p.id), ['wav-44k-16', 'flac-cd', 'aac-256k']);
    assert.ok(presets.body.presets.length >= 10);
    const doc = await alice.json<{ openapi: string; paths: Record<string, unknown> }>('GET', '/openapi.json');
    assert.equal(doc.body.openapi, '3.1.0');
    for (const p of ['/files', '/files/{id}', '/files/{id}/outputs/{preset}', '/notifications/dismiss-all', '/tokens', '/accounts']) {
      assert.ok(p in doc.body.paths, p);
    }
  });
});

describe('waveform peaks', () => {
  it('slices samples into bars scaled to the loudest', async () => {
    const { computePeaks } = await import('../src/media/waveform.ts');
    const quietThenLoud = Uint8Array.from([128, 138, 128, 118, 128, 192, 64, 128]);
    assert.deepEqual(computePeaks(quietThenLoud, 4), [16, 16, 100, 100]);
    assert.deepEqual(computePeaks(new Uint8Array(0), 4), []);
    assert.deepEqual(computePeaks(Uint8Array.from([128, 128]), 4), [0, 0]);
  });
});
