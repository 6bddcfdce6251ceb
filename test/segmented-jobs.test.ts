import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { segmentSecondsFor, worthSegmenting } from '../src/domain/segmented/plan.ts';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { outputSampleRate, presets } from '../src/media/presets.ts';
import { planSegments, segmentCodec } from '../src/media/segments/index.ts';
import { MediaError, type Media, type ProbeResult } from '../src/media/types.ts';
import { processesMentioning } from '../src/sweep.ts';
import { backend, listStoredBlobs } from './helpers/backends.ts';
import { ApiClient, type FileJson } from './helpers/clients.ts';
import { toolBytes } from './helpers/fidelity-tools.ts';
import { percentile, windowErrors, windowsNear } from './helpers/seam-error.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { startReceiver } from './helpers/webhook-receiver.ts';

const run = promisify(execFile);
const media = createFfmpegMedia({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallTimeoutMs: 60_000 });
const RATE = 44100;
const SECONDS = 60;
/** Inputs over 20 s are split: 10 s segments, six per segmentable preset for a 60 s input. */
const MIN_SECONDS = 20;
/** How far above the file's 99th-percentile window error a seam window may be (as test/segment-joins). */
const SEAM_MARGIN_DB = 1;

const music = `aevalsrc=0.3*sin(2*PI*440*t)*sin(2*PI*0.5*t)+0.1*sin(2*PI*3000*t+sin(2*PI*3*t))+0.04*(random(0)-0.5)|0.25*sin(2*PI*554*t)+0.08*sin(2*PI*7000*t)*sin(2*PI*0.2*t)+0.04*(random(1)-0.5):s=${RATE}:d=${SECONDS}`;

/** Decoded PCM as ffmpeg's decoders give it, 16-bit stereo at the file's own rate. */
const pcm = (file: string) => toolBytes('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a:0', '-f', 's16le', '-ac', '2', '-']);

/** The segment starts (seams) the service plans for a preset, at the output rate. */
function seamsOf(presetId: string, input: ProbeResult): number[] {
  const preset = presets.find((p) => p.id === presetId)!;
  const rate = outputSampleRate(preset, input.sampleRate);
  const segments = planSegments({
    totalSamples: Math.round((input.durationMs / 1000) * rate),
    segmentSamples: Math.round(segmentSecondsFor(MIN_SECONDS, input.durationMs / 1000) * rate),
    codec: segmentCodec(preset)!,
    sampleRate: rate,
  });
  return segments.slice(1).map((s) => s.start);
}

/** Scratch folders of jobs of this file under DATA_DIR/tmp. */
async function localScratch(srv: TestServer, fileId: string): Promise<string[]> {
  const names = await readdir(path.join(srv.dataDir, 'tmp')).catch(() => [] as string[]);
  return names.filter((n) => n.includes(fileId));
}

/** The webhooks received about a file, one per delivery (retries of a delivery share its webhook-id). */
function webhooksAbout(received: readonly { body: string; headers: Record<string, unknown> }[], fileId: string): string[] {
  const byId = new Map<string, string>();
  for (const r of received) if (r.body.includes(fileId)) byId.set(String(r.headers['webhook-id']), (JSON.parse(r.body) as { type: string }).type);
  return [...byId.values()];
}

const segmentBlobs = async (srv: TestServer) => (await listStoredBlobs(srv.env, srv.dataDir)).filter((k) => /(^|\/)segments\//.test(k));

describe(`segmented transcodes through the service (${backend.name})`, () => {
  let srv: TestServer;
  let api: ApiClient;
  let dir = '';
  let inputPath = '';
  let input: ProbeResult;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const segmentRuns: string[] = [];
  /** When set and true for a segment encode, that encode fails as a broken encoder would. */
  let breakEncode: (() => boolean) | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-segmented-'));
    inputPath = path.join(dir, 'long.flac');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', music, '-c:a', 'flac', '-sample_fmt', 's16', '-metadata', 'title=Long take', inputPath]);
    input = await media.probe(inputPath);
    receiver = await startReceiver();
    // Patient deliveries, quick retries: this process also runs the seam checks and the workers, and
    // on a crowded machine the receiver can answer late (a retry of a delivery keeps its webhook-id).
    srv = await startServer({ SEGMENT_MIN_SECONDS: String(MIN_SECONDS), WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '1,1,1,1,1', WEBHOOK_TIMEOUT_SECONDS: '120' });
    // Count the segment encodes the workers run, to know the job really was split.
    const real: Media = srv.app.deps.media;
    srv.app.deps.media = {
      ...real,
      encodeSegment: (req) => {
        segmentRuns.push(req.preset.id);
        if (breakEncode?.()) return Promise.reject(new MediaError('failed', 'The encoder broke (injected by the test).'));
        return real.encodeSegment(req);
      },
    };
    api = await ApiClient.signUp(srv.url, 'segmenter');
    const hook = await api.json('POST', '/webhooks', { url: `${receiver.url}/hook`, events: ['file.completed', 'file.failed', 'file.canceled'] });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
  });

  after(async () => {
    await srv?.close();
    await receiver?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const finished = (id: string) =>
    waitFor(`file ${id} to finish`, async () => {
      const { body } = await api.json<FileJson>('GET', `/files/${id}`);
      return ['completed', 'failed', 'canceled'].includes(body.status) ? body : undefined;
    }, 600_000);

  describe('every built-in preset', () => {
    let file: FileJson;
    const onePass = new Map<string, string>();
    const joined = new Map<string, string>();

    before(async () => {
      const progress: number[] = [];
      const up = await api.upload(inputPath, { presets: presets.map((p) => p.id).join(',') });
      assert.equal(up.status, 201, JSON.stringify(up.body));
      file = await waitFor('completion', async () => {
        const { body } = await api.json<FileJson>('GET', `/files/${up.body.id}`);
        progress.push(body.progress);
        return ['completed', 'failed', 'canceled'].includes(body.status) ? body : undefined;
      }, 600_000);
      assert.equal(file.status, 'completed', file.error ?? '');
      assert.ok(progress.some((p) => p > 0 && p < 100), `one progress figure moved over the parts: ${[...new Set(progress)].join(',')}`);
      // The reference: one ffmpeg process writing every output, as without segmenting.
      const outputs = presets.map((preset) => ({ preset, path: path.join(dir, `one-${preset.id}.${preset.extension}`) }));
      await media.transcode({ inputPath, input, outputs, signal: new AbortController().signal, limits: { maxInputSeconds: 3600, maxOutputBytes: 2 ** 32 }, onProgress: () => undefined });
      for (const o of outputs) onePass.set(o.preset.id, o.path);
      for (const output of file.outputs) {
        const res = await api.request('GET', `/files/${file.id}/outputs/${output.preset}`);
        assert.equal(res.status, 200);
        const local = path.join(dir, `joined-${output.preset}`);
        await writeFile(local, Buffer.from(await res.arrayBuffer()));
        joined.set(output.preset, local);
      }
    });

    it('was split: every lossy preset that joins exactly in segment jobs; lossless, Vorbis and ALAC in one pass', () => {
      const split = [...new Set(segmentRuns)].sort();
      assert.deepEqual(split, ['aac-256k', 'mp3-128k', 'mp3-192k', 'mp3-320k', 'mp3-v0', 'opus-96k']);
      for (const id of split) assert.equal(segmentRuns.filter((r) => r === id).length, 6, `${id}: six 10 s segments`);
      assert.deepEqual(file.outputs.map((o) => o.preset).sort(), presets.map((p) => p.id).sort(), 'one output per preset, no segments among them');
    });

    for (const preset of presets) {
      it(`${preset.id}: decodes to exactly the samples of a one-pass encode${worthSegmenting(preset) ? ', with no seam' : ''}`, async () => {
        const [got, reference] = await Promise.all([pcm(joined.get(preset.id)!), pcm(onePass.get(preset.id)!)]);
        assert.equal(got.length, reference.length, 'sample count as one pass');
        if (preset.lossless && preset.codec !== 'alac') assert.equal(got.length, SECONDS * RATE * 4, 'sample count as the input');
        if (preset.lossless) assert.ok(got.equals(reference), 'lossless outputs decode to the one-pass samples');
        if (!worthSegmenting(preset)) return;
        const window = outputSampleRate(preset, RATE) / 100;
        const errors = windowErrors(got, reference, 2, window);
        const near = new Set(seamsOf(preset.id, input).flatMap((s) => windowsNear(s, window * 5, window, errors.db.length)));
        const worstSeam = Math.max(...[...near].map((i) => errors.db[i]!));
        const usual = percentile(errors.db.filter((_, i) => !near.has(i)), 0.99);
        assert.ok(worstSeam <= usual + SEAM_MARGIN_DB, `worst seam window ${worstSeam.toFixed(1)} dB vs usual ${usual.toFixed(1)} dB`);
      });
    }

    it('sent exactly one notification and one webhook for the job', async () => {
      const hooks = await waitFor('the webhook', async () => {
        const mine = webhooksAbout(receiver.received, file.id);
        return mine.length > 0 ? mine : undefined;
      }, 300_000);
      assert.deepEqual(hooks, ['file.completed']);
      const { body } = await api.json<{ notifications: { fileId: string; kind: string }[] }>('GET', '/notifications');
      assert.deepEqual(body.notifications.filter((n) => n.fileId === file.id).map((n) => n.kind), ['completed']);
    });

    it('left no scratch: nothing under segments/ in storage, no job folders on disk, no bookkeeping rows', async () => {
      assert.deepEqual(await segmentBlobs(srv), []);
      assert.deepEqual(await localScratch(srv, file.id), []);
      assert.equal(await srv.app.deps.store.segmentRuns.find(file.id, 1), undefined);
    });
  });

  it('cancel mid-way stops every part and leaves no scratch', async () => {
    const up = await api.upload(inputPath, { presets: 'aac-256k,mp3-320k,opus-96k,vorbis-q5' });
    assert.equal(up.status, 201);
    const id = up.body.id;
    // Mid-way: some part has already put its encode into storage, others have not run yet.
    await waitFor('a finished part', async () => ((await segmentBlobs(srv)).some((k) => k.includes(id)) ? true : undefined), 300_000);
    const canceled = await api.json<FileJson>('POST', `/files/${id}/cancel`);
    assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
    // Every part job ends by removing its folder; then nothing may be left anywhere.
    await waitFor('the parts to stop', async () => ((await localScratch(srv, id)).length === 0 ? true : undefined), 30_000);
    const ffmpegs = await processesMentioning((ref) => ref.includes(id));
    assert.deepEqual(ffmpegs ?? [], [], 'no ffmpeg still works on the file');
    assert.deepEqual((await segmentBlobs(srv)).filter((k) => k.includes(id)), []);
    const { body } = await api.json<FileJson>('GET', `/files/${id}`);
    assert.equal(body.status, 'canceled');
    assert.deepEqual(body.outputs, []);
    assert.equal(await srv.app.deps.store.segmentRuns.find(id, 1), undefined);
  });

  it('a deleted file takes its parts and scratch with it', async () => {
    const up = await api.upload(inputPath, { presets: 'aac-256k,flac-cd' });
    const id = up.body.id;
    await waitFor('a finished part', async () => ((await segmentBlobs(srv)).some((k) => k.includes(id)) ? true : undefined), 300_000);
    assert.equal((await api.request('DELETE', `/files/${id}`)).status, 204);
    await waitFor('the parts to stop', async () => ((await localScratch(srv, id)).length === 0 ? true : undefined), 30_000);
    assert.deepEqual((await segmentBlobs(srv)).filter((k) => k.includes(id)), []);
  });

  it('a normalized file is measured once and every segment gets the same gain', async () => {
    const up = await api.upload(inputPath, { presets: 'flac-cd,mp3-320k', loudness: 'podcast' });
    assert.equal(up.status, 201);
    const done = await finished(up.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    const view = (await api.json<{ loudness: { report: { method: string; gainDb: number } | null } }>('GET', `/files/${done.id}`)).body;
    assert.equal(view.loudness.report?.method, 'linear');
    const gain = view.loudness.report.gainDb;
    // The joined MP3 against one pass with the same gain: every segment differs from it by the
    // same coding noise (a segment with another gain would stand out by several dB).
    const res = await api.request('GET', `/files/${done.id}/outputs/mp3-320k`);
    const joinedMp3 = path.join(dir, 'normalized.mp3');
    await writeFile(joinedMp3, Buffer.from(await res.arrayBuffer()));
    const reference = path.join(dir, 'normalized-reference.mp3');
    const mp3 = presets.find((p) => p.id === 'mp3-320k')!;
    await media.transcode({
      inputPath, input, outputs: [{ preset: mp3, path: reference }], signal: new AbortController().signal,
      limits: { maxInputSeconds: 3600, maxOutputBytes: 2 ** 32 }, onProgress: () => undefined,
      loudness: { method: 'linear', gainDb: gain, ceilingDbtp: 0, sampleRate: RATE },
    });
    const [got, want] = await Promise.all([pcm(joinedMp3), pcm(reference)]);
    assert.equal(got.length, want.length);
    const window = RATE / 100;
    const errors = windowErrors(got, want, 2, window);
    const starts = [0, ...seamsOf('mp3-320k', input), Infinity];
    const medians = starts.slice(0, -1).map((from, i) => percentile(errors.db.filter((_, w) => w * window >= from && w * window < starts[i + 1]!), 0.5));
    assert.equal(medians.length, 6);
    const spread = Math.max(...medians) - Math.min(...medians);
    assert.ok(Math.max(...medians) < -20 && spread < 3, `median error per segment ${medians.map((m) => m.toFixed(1)).join(', ')} dB: one gain throughout`);
  });

  /** Downloads an output of a file into the test's folder. */
  const download = async (id: string, presetId: string, name: string) => {
    const res = await api.request('GET', `/files/${id}/outputs/${presetId}`);
    assert.equal(res.status, 200);
    const local = path.join(dir, name);
    await writeFile(local, Buffer.from(await res.arrayBuffer()));
    return local;
  };

  /** The joined output against a one-pass reference: the same samples, and no seam louder than the usual noise. */
  async function assertLikeOnePass(joinedPath: string, referencePath: string, presetId: string, source: ProbeResult): Promise<void> {
    const [got, reference] = await Promise.all([pcm(joinedPath), pcm(referencePath)]);
    assert.equal(got.length, reference.length, `${presetId}: sample count as one pass`);
    const window = RATE / 100;
    const errors = windowErrors(got, reference, 2, window);
    const near = new Set(seamsOf(presetId, source).flatMap((seam) => windowsNear(seam, window * 5, window, errors.db.length)));
    assert.ok(near.size > 0, 'there are seams');
    const worstSeam = Math.max(...[...near].map((i) => errors.db[i]!));
    const usual = percentile(errors.db.filter((_, i) => !near.has(i)), 0.99);
    assert.ok(worstSeam <= usual + SEAM_MARGIN_DB, `${presetId}: worst seam window ${worstSeam.toFixed(1)} dB vs usual ${usual.toFixed(1)} dB`);
  }

  const limits = { maxInputSeconds: 3600, maxOutputBytes: 2 ** 32 };

  it('a later run of some outputs is split too: only its presets, the other outputs untouched, one notification per run', async () => {
    // FLAC alone is not worth splitting: the first run is one pass.
    const up = await api.upload(inputPath, { presets: 'flac-cd' });
    assert.equal(up.status, 201);
    const id = up.body.id;
    assert.equal((await finished(id)).status, 'completed');
    const flacBefore = await readFile(await download(id, 'flac-cd', 'later-flac-before.flac'));
    const encodesBefore = segmentRuns.length;
    const later = await api.json<FileJson>('POST', `/files/${id}/outputs`, { presets: ['mp3-320k'] });
    assert.equal(later.status, 202, JSON.stringify(later.body));
    const done = await finished(id);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.deepEqual(segmentRuns.slice(encodesBefore), Array(6).fill('mp3-320k'), 'the run split its own preset, six segments');
    assert.deepEqual(done.outputs.map((o) => o.preset).sort(), ['flac-cd', 'mp3-320k']);
    assert.ok((await readFile(await download(id, 'flac-cd', 'later-flac-after.flac'))).equals(flacBefore), 'the FLAC output is untouched');
    const reference = path.join(dir, 'later-reference.mp3');
    const mp3 = presets.find((p) => p.id === 'mp3-320k')!;
    await media.transcode({ inputPath, input, outputs: [{ preset: mp3, path: reference }], signal: new AbortController().signal, limits, onProgress: () => undefined });
    await assertLikeOnePass(await download(id, 'mp3-320k', 'later-joined.mp3'), reference, 'mp3-320k', input);
    const { body } = await api.json<{ notifications: { fileId: string; kind: string }[] }>('GET', '/notifications');
    assert.deepEqual(body.notifications.filter((n) => n.fileId === id).map((n) => n.kind), ['completed', 'completed'], 'one per run');
    assert.deepEqual((await segmentBlobs(srv)).filter((k) => k.includes(id)), []);
  });

  it('a trimmed file is split over the trimmed audio: the same samples as a one-pass trim', async () => {
    const trim = { start: 5.5, end: 52.25 };
    const encodesBefore = segmentRuns.length;
    const up = await api.upload(inputPath, { presets: 'aac-256k,flac-cd', start: String(trim.start), end: String(trim.end) });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const done = await finished(up.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    const source = { ...input, durationMs: (trim.end - trim.start) * 1000 };
    const segments = seamsOf('aac-256k', source).length + 1;
    assert.deepEqual(segmentRuns.slice(encodesBefore), Array(segments).fill('aac-256k'), `split in ${segments} segments of the trimmed audio`);
    const outputs = ['aac-256k', 'flac-cd'].map((presetId) => {
      const preset = presets.find((p) => p.id === presetId)!;
      return { preset, path: path.join(dir, `trim-reference-${presetId}.${preset.extension}`) };
    });
    await media.transcode({ inputPath, input: source, trim, outputs, signal: new AbortController().signal, limits, onProgress: () => undefined });
    const flac = await download(up.body.id, 'flac-cd', 'trim-joined.flac');
    const [flacGot, flacWant] = await Promise.all([pcm(flac), pcm(outputs[1]!.path)]);
    assert.equal(flacGot.length, (Math.round(trim.end * RATE) - Math.round(trim.start * RATE)) * 4, 'the trimmed length, to the sample');
    assert.ok(flacGot.equals(flacWant), 'the lossless output is the one-pass trim');
    await assertLikeOnePass(await download(up.body.id, 'aac-256k', 'trim-joined.m4a'), outputs[0]!.path, 'aac-256k', source);
    assert.deepEqual((await segmentBlobs(srv)).filter((k) => k.includes(up.body.id)), []);
  });

  it('a failed part fails the file with its reason, once, leaves no scratch, and retry runs it again', async () => {
    let encodes = 0;
    breakEncode = () => ++encodes === 3;
    const up = await api.upload(inputPath, { presets: 'mp3-128k' });
    const id = up.body.id;
    const failed = await finished(id);
    breakEncode = undefined;
    assert.equal(failed.status, 'failed');
    assert.match(failed.error ?? '', /injected by the test/);
    await waitFor('the parts to stop', async () => ((await localScratch(srv, id)).length === 0 ? true : undefined), 30_000);
    assert.deepEqual((await segmentBlobs(srv)).filter((k) => k.includes(id)), []);
    const hooks = await waitFor('the webhook', async () => {
      const mine = webhooksAbout(receiver.received, id);
      return mine.length > 0 ? mine : undefined;
    }, 300_000);
    assert.deepEqual(hooks, ['file.failed']);
    const { body } = await api.json<{ notifications: { fileId: string; kind: string }[] }>('GET', '/notifications');
    assert.deepEqual(body.notifications.filter((n) => n.fileId === id).map((n) => n.kind), ['failed']);

    assert.equal((await api.json('POST', `/files/${id}/retry`)).status, 200);
    const retried = await finished(id);
    assert.equal(retried.status, 'completed', retried.error ?? '');
    assert.deepEqual(retried.outputs.map((o) => o.preset), ['mp3-128k']);
    assert.deepEqual((await segmentBlobs(srv)).filter((k) => k.includes(id)), []);
  });
});
