import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { estimateOutputBytes, maxBytesPerSecond } from '../src/media/limits.ts';
import { peaksFromFile } from '../src/media/peaks-file.ts';
import { defaultPresetIds, findPreset, presets } from '../src/media/presets.ts';
import { MediaError, type MediaLimits, type OutputPlan } from '../src/media/types.ts';
import { computePeaks, PeakAccumulator } from '../src/media/waveform.ts';
import { listStoredBlobs } from './helpers/backends.ts';
import { ffprobe, fixtures } from './helpers/audio.ts';
import { ApiClient, type FileJson } from './helpers/clients.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { limitFixtures } from './unit/limit-fixtures.ts';
import { fileEnded } from './helpers/files.ts';
const media = createFfmpegMedia({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallTimeoutMs: 60_000 });
const roomy: MediaLimits = { maxInputSeconds: 4 * 3600, maxOutputBytes: 8 * 1024 ** 3 };
let dir = '';
let fx: ReturnType<typeof limitFixtures>;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-limits-'));
  fx = limitFixtures(dir);
});
after(() => rm(dir, { recursive: true, force: true }));

describe('waveform peaks are computed in chunks', () => {
  it('matches computePeaks for any split of the same bytes', () => {
    for (const length of [0, 1, 5, 239, 240, 241, 1000, 12_345]) {
      const samples = Uint8Array.from(randomBytes(length));
      for (const bars of [4, 240]) {
        const whole = computePeaks(samples, bars);
        for (const chunk of [1, 7, 4096, Math.max(1, length)]) {
          const acc = new PeakAccumulator(length, bars);
          for (let i = 0; i < length; i += chunk) acc.push(samples.subarray(i, i + chunk));
          assert.deepEqual(acc.finish(), whole, `length ${length}, ${bars} bars, chunks of ${chunk}`);
        }
      }
    }
  });

  it('reads a large peaks file in bounded chunks, with the same result as reading it whole', async () => {
    const file = path.join(dir, 'large.u8');
    // A loud stretch in the middle of quiet noise, so the bars differ from each other.
    const bytes = Buffer.alloc(10 * 1024 * 1024 + 123);
    for (let i = 0; i < bytes.length; i++) bytes[i] = 128 + ((i * 7919) % 21) - 10;
    bytes.fill(250, 5_000_000, 5_100_000);
    await writeFile(file, bytes);
    const chunks: number[] = [];
    const peaks = await peaksFromFile(file, 240, { chunkBytes: 64 * 1024, onChunk: (n) => chunks.push(n) });
    assert.deepEqual(peaks, computePeaks(await readFile(file), 240));
    assert.equal(chunks.length, Math.ceil(bytes.length / (64 * 1024)));
    assert.ok(chunks.every((n) => n <= 64 * 1024));
    assert.equal(Math.max(...peaks), 100);
  });
});

describe('output size estimate', () => {
  it('bounds what every preset really writes, on white noise (the worst case for lossless codecs)', async () => {
    const noise = await fx.ffmpeg('noise.wav', ['-f', 'lavfi', '-i', 'anoisesrc=color=white:duration=20:sample_rate=96000:amplitude=1', '-ac', '2', '-c:a', 'pcm_s24le']);
    const input = await media.probe(noise);
    const outputs: OutputPlan[] = presets.map((preset) => ({ preset, path: path.join(dir, `noise-${preset.id}.${preset.extension}`) }));
    const peaksPath = path.join(dir, 'noise-peaks.u8');
    await media.transcode({ inputPath: noise, input, outputs, peaksPath, limits: roomy, signal: new AbortController().signal, onProgress: () => {} });
    let total = (await stat(peaksPath)).size;
    for (const { preset, path: out } of outputs) {
      const size = (await stat(out)).size;
      total += size;
      assert.ok(size <= estimateOutputBytes(input, [preset]), `${preset.id}: ${size} bytes, bound ${estimateOutputBytes(input, [preset])}`);
      assert.ok(maxBytesPerSecond(preset, input) > 0);
    }
    // An upper bound, but not so loose that it refuses what would fit.
    const estimate = estimateOutputBytes(input, presets);
    assert.ok(total <= estimate && total * 2 > estimate, `${total} written, ${estimate} estimated`);
  });

  it('lets a four-hour CD-quality recording with the default outputs through the default cap', () => {
    const input = { format: 'flac', codec: 'flac', durationMs: 4 * 3600_000, sampleRate: 44100, channels: 2, bitRate: 0, hasCover: false };
    const estimate = estimateOutputBytes(input, defaultPresetIds.flatMap((id) => findPreset(id) ?? []));
    assert.ok(estimate > 2 * 2_540_160_000 && estimate < 8 * 1024 ** 3, `estimate ${estimate}`);
  });
});

describe('the running transcode enforces the limits itself', () => {
  const transcode = (inputPath: string, ids: string[], limits: MediaLimits) =>
    media.probe(inputPath).then((input) => {
      const outputs = ids.flatMap((id) => findPreset(id) ?? []).map((preset) => ({ preset, path: path.join(dir, `guard-${preset.id}.${preset.extension}`) }));
      const done = media.transcode({ inputPath, input, outputs, peaksPath: path.join(dir, 'guard.u8'), limits, signal: new AbortController().signal, onProgress: () => {} });
      return { outputs, done };
    });
  const sizes = async (outputs: OutputPlan[]) => (await Promise.all(outputs.map((o) => stat(o.path).then((s) => s.size)))).reduce((a, b) => a + b, 0);

  it('stops ffmpeg once the outputs pass the byte cap', async () => {
    const { outputs, done } = await transcode(await fixtures.long(), ['wav-44k-16', 'aac-256k'], { ...roomy, maxOutputBytes: 2_000_000 });
    await assert.rejects(done, (err: MediaError) => {
      assert.equal(err.kind, 'too_large');
      assert.match(err.message, /grew past 1\.9 MB/);
      assert.equal(err.facts.limitBytes, 2_000_000);
      return true;
    });
    // The whole WAV of 420 s alone would be 74 MB.
    const written = await sizes(outputs);
    assert.ok(written > 2_000_000 && written < 40_000_000, `${written} bytes written`);
  });

  it('stops ffmpeg once the audio runs past the length limit, whatever the header says', async () => {
    const liar = await fx.lyingFlac();
    const probed = await media.probe(liar);
    assert.equal(probed.durationMs, 1000, 'the header lies');
    const { done } = await transcode(liar, ['wav-44k-16'], { ...roomy, maxInputSeconds: 5 });
    await assert.rejects(done, (err: MediaError) => {
      assert.equal(err.kind, 'too_long');
      assert.match(err.message, /runs past 0:00:05.*says it lasts 0:00:01/);
      return true;
    });
  });
});

/** Stored objects and file rows: what a refused upload must not leave. */
async function leftovers(srv: TestServer): Promise<{ objects: string[]; files: number }> {
  const objects = await listStoredBlobs(srv.env, srv.dataDir);
  const files = await srv.app.db.selectFrom('files').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { objects, files: Number(files.n) };
}

type Problem = FileJson & Record<string, unknown>;

/**
 * Refused at upload with 422, the code and the numbers, nothing kept: local storage probes the
 * stored file, remote storage the copy the web process keeps on the way to the bucket.
 */
async function expectRefused(srv: TestServer, api: ApiClient, file: string, fields: Record<string, string>, code: string, message: RegExp, extra: Record<string, number> = {}) {
  const res = await api.upload(file, fields);
  const body = res.body as Problem;
  assert.equal(res.status, 422, JSON.stringify(body));
  assert.equal(res.res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.equal(body.code, code);
  assert.match(body.detail ?? '', message);
  for (const [k, v] of Object.entries(extra)) assert.equal(body[k], v, k);
  assert.deepEqual(await leftovers(srv), { objects: [], files: 0 });
}

describe('limits over HTTP, default settings', () => {
  let srv: TestServer;
  let api: ApiClient;
  before(async () => {
    srv = await startServer();
    api = await ApiClient.signUp(srv.url, 'limits-default');
  });
  after(() => srv.close());

  it('refuses a five-hour recording of a few KB, naming the limit', async () => {
    const file = await fx.silence('five-hours.flac', 5 * 3600, 1);
    assert.ok((await stat(file)).size < 20_000);
    await expectRefused(srv, api, file, {}, 'input_too_long', /^This recording is 5:00:00 long; this server accepts up to 4:00:00\.$/, {
      limitSeconds: 14_400,
      seconds: 18_000,
    });
  });

  it('refuses 64 channels with the reason, not ffmpeg\'s words', async () => {
    await expectRefused(srv, api, await fx.manyChannels(64), {}, 'too_many_channels', /^This file has 64 audio channels; Reprise accepts up to 8\.$/, {
      channels: 64,
      maxChannels: 8,
    });
  });

  it('downmixes 8 channels without a layout to stereo', async () => {
    const up = await api.upload(await fx.manyChannels(8), { presets: 'wav-44k-16' });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const done = await fileEnded(api, up.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    const res = await api.request('GET', `/files/${up.body.id}/outputs/wav-44k-16`);
    const out = path.join(dir, 'downmixed.wav');
    await writeFile(out, Buffer.from(await res.arrayBuffer()));
    assert.equal((await ffprobe(out)).streams[0]?.channels, 2);
  });
});

describe('limits over HTTP, MAX_INPUT_SECONDS=5', () => {
  let srv: TestServer;
  let api: ApiClient;
  before(async () => {
    srv = await startServer({ MAX_INPUT_SECONDS: '5' });
    api = await ApiClient.signUp(srv.url, 'limits-short');
  });
  after(() => srv.close());

  it('refuses a file just over the limit', async () => {
    await expectRefused(srv, api, await fx.tone('six.wav', 6), {}, 'input_too_long', /is 0:00:06 long; this server accepts up to 0:00:05/, { limitSeconds: 5 });
  });

  it('accepts and transcodes a file under the limit', async () => {
    const up = await api.upload(await fx.tone('four.wav', 4));
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const done = await fileEnded(api, up.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.equal(done.outputs.length, 3);
  });

  it('fails a job whose file claims 1 s but holds ten minutes, once ffmpeg passes the limit', async () => {
    const up = await api.upload(await fx.lyingFlac());
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const done = await fileEnded(api, up.body.id);
    assert.equal(done.status, 'failed');
    assert.match(done.error ?? '', /runs past 0:00:05, the longest this server accepts, although the file says it lasts 0:00:01/);
    assert.deepEqual(done.outputs, []);
  });
});

describe('limits over HTTP, MAX_OUTPUT_BYTES=200000', () => {
  let srv: TestServer;
  let api: ApiClient;
  before(async () => {
    srv = await startServer({ MAX_OUTPUT_BYTES: '200000' });
    api = await ApiClient.signUp(srv.url, 'limits-small');
  });
  after(() => srv.close());

  it('refuses an upload whose outputs could pass the cap', async () => {
    // WAV, FLAC and AAC of 4 s: about 1.5 MB.
    await expectRefused(srv, api, await fx.tone('four-b.wav', 4), {}, 'output_too_large', /could take up to .* this server allows 195 KB per file/, { limitBytes: 200_000 });
  });

  it('accepts the same file with an output that fits', async () => {
    const up = await api.upload(await fx.tone('four-b.wav', 4), { presets: 'mp3-128k' });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const done = await fileEnded(api, up.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.ok((done.outputs[0]?.size ?? 0) > 0);
  });
});
