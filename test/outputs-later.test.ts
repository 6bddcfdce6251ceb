import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Upload } from 'tus-js-client';
import { fixtures } from './helpers/audio.ts';
import { ApiClient, PageClient, type FileJson } from './helpers/clients.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { fileSettled, fileWhen, saveOutput } from './helpers/files.ts';
import { startServerWithUser } from './helpers/server-with-user.ts';

const run = promisify(execFile);

type File = FileJson & { trim: { start: number; end: number | null } | null; producing: string[] | null; waveform: number[] | null };
interface Notice { fileId: string; message: string; kind: string }

/** Decoded samples per channel of an audio file, counted by decoding it whole (not from headers). */
async function decodedSamples(file: string): Promise<number> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a:0', '-ac', '1', '-f', 's32le', '-'], { encoding: 'buffer', maxBuffer: 1 << 30 });
  return stdout.length / 4;
}

describe('more outputs later, from the stored source', () => {
  let srv: TestServer;
  let api: ApiClient;
  let other: ApiClient;
  let dir = '';
  let longInput = '';
  let close: () => Promise<void>;

  before(async () => {
    ({ srv, api, dir, close } = await startServerWithUser('later', { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '3600' }));
    other = await ApiClient.signUp(srv.url, 'stranger');
    // Seven minutes of stereo noise (AAC takes seconds to encode it), as a 5 MB MP3 rather than
    // the 44 MB FLAC fixture: the upload is not what these tests are about.
    longInput = path.join(dir, 'long.mp3');
    await run('ffmpeg', ['-v', 'error', '-i', await fixtures.long(), '-c:a', 'libmp3lame', '-b:a', '96k', longInput]);
    // Nothing listens there: deliveries are recorded (and counted below) whatever the receiver does.
    const hook = await api.json('POST', '/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['file.completed', 'file.failed', 'file.canceled'] });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
  });
  after(() => close());

  const get = async (id: string) => (await api.json<File>('GET', `/files/${id}`)).body;
  const ended = (id: string) => fileSettled<File>(api, id, 300_000);
  const running = (id: string) => fileWhen<File>(api, id, (f) => f.status === 'running', `file ${id} to run`, 300_000);
  const add = (id: string, presets: unknown, client = api) => client.json<File>('POST', `/files/${id}/outputs`, { presets });
  const notices = async (id: string) =>
    (await api.json<{ notifications: Notice[] }>('GET', '/notifications')).body.notifications.filter((n) => n.fileId === id);
  const webhooks = async (id: string, type: string) =>
    (await srv.app.db.selectFrom('webhook_deliveries').select('body').where('event_type', '=', type).execute()).filter((d) => d.body.includes(id)).length;
  const outputKey = async (id: string, preset: string) =>
    (await srv.app.db.selectFrom('outputs').select('blob_key').where('file_id', '=', id).where('preset_id', '=', preset).executeTakeFirst())?.blob_key;
  async function download(id: string, preset: string): Promise<Buffer> {
    const res = await api.request('GET', `/files/${id}/outputs/${preset}`);
    assert.equal(res.status, 200, `${preset} downloads`);
    return Buffer.from(await res.arrayBuffer());
  }

  it('adds a preset to a completed file: only it is made, the first output is untouched, one notification and one webhook per run', async () => {
    const up = await api.upload(await fixtures.wav(), { presets: 'flac-cd' });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.equal((await ended(up.body.id)).status, 'completed');
    const flacKey = await outputKey(up.body.id, 'flac-cd');
    const flacBytes = await download(up.body.id, 'flac-cd');

    const later = await add(up.body.id, ['mp3-320k', 'opus-96k']);
    assert.equal(later.status, 202, JSON.stringify(later.body));
    assert.equal(later.body.status, 'queued');
    assert.deepEqual(later.body.producing, ['mp3-320k', 'opus-96k']);
    assert.deepEqual(later.body.presets, ['flac-cd', 'mp3-320k', 'opus-96k']);
    assert.deepEqual(later.body.outputs.map((o) => o.preset), ['flac-cd'], 'the finished output stays listed while the new ones are made');

    const done = await ended(up.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.equal(done.producing, null);
    assert.deepEqual(done.outputs.map((o) => o.preset), ['flac-cd', 'mp3-320k', 'opus-96k']);
    assert.equal(await outputKey(up.body.id, 'flac-cd'), flacKey, 'the FLAC output was not made again');
    assert.deepEqual(await download(up.body.id, 'flac-cd'), flacBytes);
    const mp3 = path.join(dir, 'later.mp3');
    await writeFile(mp3, await download(up.body.id, 'mp3-320k'));
    assert.ok(Math.abs((await decodedSamples(mp3)) - 4 * 44_100) < 2000, 'the new MP3 holds the whole 4 s input');

    const told = await notices(up.body.id);
    assert.equal(told.length, 2, JSON.stringify(told));
    assert.ok(told.some((n) => /New outputs of .* are ready/.test(n.message)));
    await waitFor('both runs\' webhooks', async () => ((await webhooks(up.body.id, 'file.completed')) >= 2 ? true : undefined));
    assert.equal(await webhooks(up.body.id, 'file.completed'), 2, 'one file.completed webhook per run');
  });

  it('re-runs one output on a long file: untouched outputs download while it runs, the old one until the new one is whole; 409 while busy', async () => {
    const up = await api.upload(longInput, { presets: 'flac-cd,wav-44k-16' });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.equal((await ended(up.body.id)).status, 'completed');
    const flacKey = await outputKey(up.body.id, 'flac-cd');
    const wavKey = await outputKey(up.body.id, 'wav-44k-16');
    const flacSize = (await get(up.body.id)).outputs.find((o) => o.preset === 'flac-cd')?.size;

    // AAC is the slow encoder: long enough to catch the run in the middle.
    const rerun = await add(up.body.id, ['flac-cd', 'aac-256k']);
    assert.equal(rerun.status, 202, JSON.stringify(rerun.body));
    await running(up.body.id);
    const busy = await add(up.body.id, ['mp3-128k']);
    assert.equal(busy.status, 409);
    assert.equal((busy.body as FileJson).code, 'file_busy');
    const wav = await download(up.body.id, 'wav-44k-16');
    assert.ok(wav.length > 70_000_000, 'the untouched WAV downloads whole during the run');
    const oldFlac = await download(up.body.id, 'flac-cd');
    assert.equal(oldFlac.length, flacSize, 'the FLAC being made again is still the old one');
    assert.equal(await outputKey(up.body.id, 'flac-cd'), flacKey);

    const done = await ended(up.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.deepEqual(done.outputs.map((o) => o.preset).sort(), ['aac-256k', 'flac-cd', 'wav-44k-16']);
    const newKey = await outputKey(up.body.id, 'flac-cd');
    assert.notEqual(newKey, flacKey, 'the FLAC was made again');
    assert.equal(await outputKey(up.body.id, 'wav-44k-16'), wavKey, 'the WAV was not');
    // The old bytes go just after the run's final commit, which is when the file reads completed.
    const gone = await waitFor('the replaced FLAC\'s bytes to go', async () => ((await srv.app.deps.blobs.stat(flacKey ?? '')) === undefined ? true : undefined), 10_000).catch(() => false);
    assert.equal(gone, true, 'the replaced FLAC\'s bytes are gone');
    assert.equal((await download(up.body.id, 'flac-cd')).length > 0, true);
    assert.equal((await notices(up.body.id)).length, 2);
  });

  it('a canceled re-run keeps the old output; retrying it makes only its presets again', async () => {
    const up = await api.upload(longInput, { presets: 'flac-cd' });
    assert.equal((await ended(up.body.id)).status, 'completed');
    const flacKey = await outputKey(up.body.id, 'flac-cd');
    assert.equal((await add(up.body.id, ['flac-cd', 'aac-256k'])).status, 202);
    await running(up.body.id);
    assert.equal((await api.json('POST', `/files/${up.body.id}/cancel`)).status, 200);
    const canceled = await ended(up.body.id);
    assert.equal(canceled.status, 'canceled');
    assert.deepEqual(canceled.producing, ['flac-cd', 'aac-256k']);
    assert.deepEqual(canceled.outputs.map((o) => o.preset), ['flac-cd']);
    assert.equal(await outputKey(up.body.id, 'flac-cd'), flacKey);
    await download(up.body.id, 'flac-cd');
    assert.equal(await webhooks(up.body.id, 'file.canceled'), 1);

    const retried = await api.json<File>('POST', `/files/${up.body.id}/retry`);
    assert.equal(retried.status, 200);
    assert.deepEqual(retried.body.outputs.map((o) => o.preset), ['flac-cd'], 'a retried later run keeps the outputs there are');
    const done = await ended(up.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.deepEqual(done.outputs.map((o) => o.preset).sort(), ['aac-256k', 'flac-cd']);
    // Upload, canceled run (no notification), retried run.
    assert.equal((await notices(up.body.id)).length, 2);
  });

  it('answers 404 for a foreign or unknown file, 422 for no or unknown presets', async () => {
    const up = await api.upload(await fixtures.wav(), { presets: 'wav-44k-16' });
    assert.equal((await ended(up.body.id)).status, 'completed');
    const foreign = await add(up.body.id, ['mp3-128k'], other);
    assert.equal(foreign.status, 404);
    assert.equal((foreign.body as FileJson).code, 'not_found');
    assert.equal((await add('00000000-0000-4000-8000-000000000000', ['mp3-128k'])).status, 404);
    for (const [presets, code] of [[[], 'no_presets_chosen'], [['nope'], 'unknown_preset'], [undefined, 'no_presets_chosen'], ['mp3-128k', 'invalid_presets']] as const) {
      const res = await add(up.body.id, presets);
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.equal((res.body as FileJson).code, code);
    }
    // Another user's own preset is as unknown as a made-up one.
    const theirs = await other.json<{ id: string }>('POST', '/presets', { label: 'Theirs', codec: 'flac' });
    assert.equal(theirs.status, 201);
    assert.equal((await add(up.body.id, [theirs.body.id])).body.code, 'unknown_preset');
    assert.equal((await get(up.body.id)).status, 'completed', 'nothing was queued');
    assert.equal((await notices(up.body.id)).length, 1);
  });

  it('makes more outputs from the command line: reprise outputs <id> --presets … --wait', async () => {
    const up = await api.upload(await fixtures.wav(), { presets: 'wav-44k-16' });
    assert.equal((await ended(up.body.id)).status, 'completed');
    const env = { ...process.env, REPRISE_URL: srv.url, REPRISE_TOKEN: api.token, XDG_CONFIG_HOME: dir };
    const bin = path.join(import.meta.dirname, '..', 'bin', 'reprise.js');
    const { stdout } = await run(process.execPath, [bin, 'outputs', up.body.id, '--presets', 'vorbis-q5', '--wait', '--json'], { env });
    const file = JSON.parse(stdout) as File;
    assert.equal(file.status, 'completed');
    assert.deepEqual(file.outputs.map((o) => o.preset), ['wav-44k-16', 'vorbis-q5']);
    const usage = await run(process.execPath, [bin, 'outputs', up.body.id], { env }).then(() => 0, (err: { code: number; stderr: string }) => {
      assert.match(err.stderr, /--presets/);
      return err.code;
    });
    assert.equal(usage, 2);
  });

  it('takes the caller\'s own preset as a later output', async () => {
    const up = await api.upload(await fixtures.wav(), { presets: 'wav-44k-16' });
    assert.equal((await ended(up.body.id)).status, 'completed');
    const mine = await api.json<{ id: string }>('POST', '/presets', { label: 'Mono FLAC', codec: 'flac', channels: 1 });
    assert.equal(mine.status, 201, JSON.stringify(mine.body));
    assert.equal((await add(up.body.id, [mine.body.id])).status, 202);
    const done = await ended(up.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    const out = path.join(dir, 'mono.flac');
    await writeFile(out, await download(up.body.id, mine.body.id));
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=channels', '-of', 'csv=p=0', out]);
    assert.equal(stdout.trim(), '1');
  });
});

describe('trim, applied to every output', () => {
  let srv: TestServer;
  let api: ApiClient;
  let dir = '';
  let close: () => Promise<void>;

  before(async () => {
    ({ srv, api, dir, close } = await startServerWithUser('trimmer'));
  });
  after(() => close());

  const ended = (id: string) => fileSettled<File>(api, id);
  async function samplesOf(id: string, preset: string, ext: string): Promise<number> {
    return decodedSamples(await saveOutput(api, id, preset, path.join(dir, `${id}-${preset}.${ext}`)));
  }

  it('cuts every lossless output sample-exactly, and later outputs reuse the trim', async () => {
    const [start, end] = [1.2345, 2.71828];
    const expected = Math.round(end * 44_100) - Math.round(start * 44_100);
    const up = await api.upload(await fixtures.wav(), { presets: 'wav-44k-16,flac-cd', start: String(start), end: String(end) });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.deepEqual((up.body as File).trim, { start, end });
    const done = await ended(up.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.equal(await samplesOf(up.body.id, 'wav-44k-16', 'wav'), expected);
    assert.equal(await samplesOf(up.body.id, 'flac-cd', 'flac'), expected);
    assert.ok(done.waveform && done.waveform.length > 0);

    const later = await api.json<File>('POST', `/files/${up.body.id}/outputs`, { presets: ['alac'] });
    assert.equal(later.status, 202);
    assert.equal((await ended(up.body.id)).status, 'completed');
    assert.equal(await samplesOf(up.body.id, 'alac', 'm4a'), expected, 'the later ALAC output has the same trim');
  });

  it('trims a lossy input at the same samples as a full decode', async () => {
    const up = await api.upload(await fixtures.mp3WithCover(), { presets: 'wav-44k-16', start: '0.5', end: '2.25' });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.equal((await ended(up.body.id)).status, 'completed');
    const res = await api.request('GET', `/files/${up.body.id}/outputs/wav-44k-16`);
    const cut = path.join(dir, 'cut.wav');
    await writeFile(cut, Buffer.from(await res.arrayBuffer()));
    const pcm = async (file: string) => (await run('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a:0', '-f', 's16le', '-'], { encoding: 'buffer', maxBuffer: 1 << 28 })).stdout;
    const whole = await pcm(await fixtures.mp3WithCover());
    // Mono 16-bit. The decoder gives floats and the 16-bit preset dithers, so values may differ by
    // a step or two; a cut one sample off would differ by hundreds on this 330 Hz tone.
    const ours = await pcm(cut);
    const reference = whole.subarray(22_050 * 2, 99_225 * 2);
    assert.equal(ours.length, reference.length);
    let worst = 0;
    for (let i = 0; i < ours.length; i += 2) worst = Math.max(worst, Math.abs(ours.readInt16LE(i) - reference.readInt16LE(i)));
    assert.ok(worst <= 3, `the cut matches a full decode at the same samples (largest difference ${worst})`);
  });

  it('measures loudness and draws the waveform from the trimmed audio only', async () => {
    // 2 s of a loud tone, then 2 s of a tone 30 dB quieter: the trim keeps only the quiet part.
    const input = path.join(dir, 'loud-then-quiet.wav');
    await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', "aevalsrc='sin(2*PI*440*t)*if(lt(t,2),0.5,0.0158)':s=44100:d=4", '-ac', '2', '-c:a', 'pcm_s16le', input]);
    const quiet = path.join(dir, 'quiet-part.wav');
    await run('ffmpeg', ['-v', 'error', '-y', '-i', input, '-af', 'atrim=start=2.5:end=3.5', quiet]);
    const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', quiet, '-af', 'ebur128', '-f', 'null', '-']);
    const reference = parseFloat(/I:\s+(\S+) LUFS/.exec(stderr.slice(stderr.lastIndexOf('Summary:')))?.[1] ?? 'NaN');

    const up = await api.upload(input, { presets: 'wav-44k-16', loudness: 'broadcast', start: '2.5', end: '3.5' });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const done = (await ended(up.body.id)) as File & { loudness: { report: { before: { integratedLufs: number } } | null } };
    assert.equal(done.status, 'completed', done.error ?? '');
    const before = done.loudness.report?.before.integratedLufs ?? NaN;
    assert.ok(Math.abs(before - reference) < 0.5, `measured ${before} LUFS before, the quiet part alone is ${reference}`);
    assert.ok(done.waveform);
    const peaks = done.waveform;
    assert.ok(Math.max(...peaks) - Math.min(...peaks) < 10, `a steady tone draws a flat waveform: ${peaks.join(',')}`);
  });

  it('takes the trim from tus Upload-Metadata, refusing a bad one before any byte is sent', async () => {
    const data = await readFile(await fixtures.wav());
    const send = (metadata: Record<string, string>) =>
      new Promise<{ fileId?: string; status?: number; body?: string }>((resolve) => {
        new Upload(data, {
          endpoint: `${srv.url}/api/v1/uploads`,
          headers: { authorization: `Bearer ${api.token}` },
          metadata,
          retryDelays: [],
          onSuccess: ({ lastResponse }) => resolve({ fileId: lastResponse.getHeader('reprise-file-id') ?? undefined }),
          onError: (err) => {
            const res = (err as { originalResponse?: { getStatus(): number; getBody(): string } }).originalResponse;
            resolve({ status: res?.getStatus(), body: res?.getBody() });
          },
        }).start();
      });
    const refused = await send({ filename: 'tone.wav', start: '3', end: '2' });
    assert.equal(refused.status, 422);
    assert.deepEqual([JSON.parse(refused.body ?? '{}').code, JSON.parse(refused.body ?? '{}').field], ['invalid_trim', 'end']);
    const ok = await send({ filename: 'tone.wav', presets: 'flac-cd', start: '3' });
    assert.ok(ok.fileId, JSON.stringify(ok));
    const done = await ended(ok.fileId);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.deepEqual(done.trim, { start: 3, end: null });
    assert.equal(await samplesOf(ok.fileId, 'flac-cd', 'flac'), 44_100, 'from 3 s to the end of a 4 s input');
  });

  it('refuses a bad trim with a 422 naming the field, and one past the end once the duration is known', async () => {
    const wav = await fixtures.wav();
    for (const [fields, field] of [[{ start: '2', end: '1' }, 'end'], [{ start: '-1' }, 'start'], [{ end: 'soon' }, 'end'], [{ start: '1e3' }, 'start']] as const) {
      const res = await api.upload(wav, { presets: 'wav-44k-16', ...fields });
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.equal(res.body.code, 'invalid_trim');
      assert.equal((res.body as FileJson & { field?: string }).field, field);
    }
    const past = await api.upload(wav, { presets: 'wav-44k-16', start: '1', end: '9' });
    // Probed at upload (remote storage too, from the web process's copy): known at once.
    assert.equal(past.status, 422, JSON.stringify(past.body));
    assert.equal(past.body.code, 'trim_out_of_range');
  });
});

describe('the file page: trim shown, a form for more outputs', () => {
  let srv: TestServer;

  before(async () => {
    srv = await startServer();
  });
  after(() => srv.close());

  it('uploads with a trim from the page, shows it, and makes another output through a CSRF-checked form without JavaScript', async () => {
    const client = await PageClient.signUp(srv.url, 'pageuser');
    const form = new FormData();
    form.append('presets', 'wav-44k-16');
    form.append('start', '0.25');
    form.append('end', '1.75');
    form.append('file', new Blob([await readFile(await fixtures.wav())]), 'tone.wav');
    const up = await client.fetch(`/files?_csrf=${encodeURIComponent(client.csrf)}`, { method: 'POST', body: form });
    assert.equal(up.status, 303);
    const page = up.headers.get('location') ?? '';
    const id = page.split('/').pop() ?? '';
    const fileJson = async () => (await (await client.fetch(`/api/v1/files/${id}`, { method: 'GET' })).json()) as File;
    const settled = () => waitFor('the job to end', async () => {
      const f = await fileJson();
      return f.status === 'completed' || f.status === 'failed' ? f : undefined;
    });
    assert.equal((await settled()).status, 'completed');

    const shown = await client.get(page);
    assert.equal(shown.status, 200);
    assert.match(shown.html, /data-trim="0.25-1.75"/);
    assert.match(shown.html, /Trimmed: from 0.25 s to 1.75 s/);
    assert.match(shown.html, new RegExp(`<form method="post" action="/files/${id}/outputs"`));
    assert.match(shown.html, /value="wav-44k-16"> <span>[^<]*<small class="muted">— make again/, 'the made output is offered to make again');

    const forged = await client.post(`/files/${id}/outputs`, { presets: 'flac-cd', _csrf: 'forged' }, { csrf: false });
    assert.equal(forged.status, 403);
    const none = await client.post(`/files/${id}/outputs`, {});
    assert.equal(none.status, 303);
    assert.match((await client.get(page)).html, /Choose at least one preset/);
    assert.equal((await fileJson()).status, 'completed', 'nothing was queued');

    const made = await client.post(`/files/${id}/outputs`, { presets: 'flac-cd' });
    assert.equal(made.status, 303);
    assert.equal(made.location, page);
    assert.match((await client.get(page)).html, /Making 1 output; the others stay as they are/);
    const done = await settled();
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.deepEqual(done.outputs.map((o) => o.preset), ['wav-44k-16', 'flac-cd']);
    assert.deepEqual(done.trim, { start: 0.25, end: 1.75 });
    const flac = await client.fetch(`/files/${id}/outputs/flac-cd`, { method: 'GET' });
    assert.equal(flac.status, 200);
    const out = path.join(os.tmpdir(), `reprise-page-${id}.flac`);
    await writeFile(out, Buffer.from(await flac.arrayBuffer()));
    try {
      assert.equal(await decodedSamples(out), 1.5 * 44_100, 'the later output keeps the trim');
    } finally {
      await rm(out, { force: true });
    }
  });
});
