import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { ffmetadataWithPicture, flacPictureBlock } from '../src/media/ogg-cover.ts';
import { presets } from '../src/media/presets.ts';
import { canSegment, encodeSegmented, joinSegments, planSegments, segmentCodec, type Segment } from '../src/media/segments/index.ts';
import type { ProbeResult } from '../src/media/types.ts';
import { ffprobe } from './helpers/audio.ts';
import { flacPcm, mediainfo, tool, toolBytes, wavData } from './helpers/fidelity-tools.ts';
import { readLameHeader } from './helpers/lame-header.ts';
import { lastGranule, opusPreSkip } from './helpers/ogg-pages.ts';
import { percentile, windowErrors, windowsNear } from './helpers/seam-error.ts';

const run = promisify(execFile);
const media = createFfmpegMedia({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallTimeoutMs: 60_000 });
const limits = { maxInputSeconds: 3600, maxOutputBytes: 2 ** 31 };
const RATE = 44100;
const SECONDS = 48;
const SAMPLES = RATE * SECONDS;
/** Small segments so a 48 s input has four of them (three seams). */
const SEGMENT_SECONDS = 13;
/** 10 ms windows; a seam's neighbourhood is ±50 ms around it. */
const WINDOW = RATE / 100;
const REACH = RATE / 20;
/** How far above the file's 99th-percentile window error a seam window may be. */
const SEAM_MARGIN_DB = 1;

/** Tones that move, a warbling partial and noise in both channels: something like music for a codec. */
const music = `aevalsrc=0.3*sin(2*PI*440*t)*sin(2*PI*0.5*t)+0.1*sin(2*PI*3000*t+sin(2*PI*3*t))+0.04*(random(0)-0.5)|0.25*sin(2*PI*554*t)+0.08*sin(2*PI*7000*t)*sin(2*PI*0.2*t)+0.04*(random(1)-0.5):s=${RATE}:d=${SECONDS}`;

/** Decoded PCM as ffmpeg's decoders give it (MP3 trimmed by its LAME header), 16-bit stereo. */
const pcm = (file: string) => toolBytes('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a:0', '-f', 's16le', '-ac', '2', '-']);
/** The input as the Opus preset sees it: resampled to 48 kHz. */
const pcm48 = (file: string) => toolBytes('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a:0', '-ar', '48000', '-f', 's16le', '-ac', '2', '-']);

interface Outputs {
  onePass: string;
  joined: string;
  segments: Segment[];
}

/** The worst seam window and the file's usual error, for `joined` against `reference`. */
function seamReport(joined: Buffer, reference: Buffer, seams: readonly number[]) {
  const errors = windowErrors(joined, reference, 2, WINDOW);
  const near = new Set(seams.flatMap((s) => windowsNear(s, REACH, WINDOW, errors.db.length)));
  const elsewhere = errors.db.filter((_, i) => !near.has(i));
  const worstSeam = Math.max(...[...near].map((i) => errors.db[i]!));
  return { worstSeam, usual: percentile(elsewhere, 0.99) };
}

describe('segmented encodes joined at packet level match one pass', () => {
  let dir = '';
  let inputPath = '';
  let input: ProbeResult;
  let oggCover = '';
  let inputPcm: Buffer;
  const outputs = new Map<string, Outputs>();

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-segments-'));
    const cover = path.join(dir, 'picture.jpg');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=s=96x96:d=1', '-frames:v', '1', '-c:v', 'mjpeg', cover]);
    inputPath = path.join(dir, 'input.flac');
    await run('ffmpeg', [
      '-v', 'error', '-f', 'lavfi', '-i', music, '-i', cover,
      '-map', '0:a', '-map', '1:v', '-c:v', 'copy', '-disposition:v', 'attached_pic',
      '-c:a', 'flac', '-sample_fmt', 's16', '-metadata', 'title=Seams', '-metadata', 'artist=Reprise', inputPath,
    ]);
    input = await media.probe(inputPath);
    // The Ogg cover comment, made as the one-pass transcode makes it.
    oggCover = path.join(dir, 'segments-cover.ffmetadata');
    await writeFile(oggCover, ffmetadataWithPicture(flacPictureBlock(await readFile(cover), 'image/jpeg', 96, 96)));
    inputPcm = await flacPcm(inputPath);
    assert.equal(inputPcm.length, SAMPLES * 4);
    for (const preset of presets.filter(canSegment)) {
      const onePass = path.join(dir, `one-${preset.id}.${preset.extension}`);
      await media.transcode({ inputPath, input, outputs: [{ preset, path: onePass }], signal: new AbortController().signal, limits, onProgress: () => undefined });
      const scratchDir = path.join(dir, `scratch-${preset.id}`);
      await mkdir(scratchDir);
      const joined = path.join(dir, `joined-${preset.id}.${preset.extension}`);
      const segments = await encodeSegmented({ inputPath, input, preset, outPath: joined, scratchDir, segmentSeconds: SEGMENT_SECONDS, parallel: 2, extras: { oggCoverMetadataPath: oggCover } });
      outputs.set(preset.id, { onePass, joined, segments });
    }
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('WAV, FLAC, AAC, Opus and every MP3 preset can be segmented; Vorbis and ALAC fall back to one pass', () => {
    assert.deepEqual(presets.filter(canSegment).map((p) => p.id), ['wav-44k-16', 'flac-cd', 'aac-256k', 'mp3-128k', 'mp3-192k', 'mp3-320k', 'mp3-v0', 'opus-96k']);
  });

  it('plans four segments on frame boundaries, with each codec’s pre-roll before every segment but the first', () => {
    for (const preset of presets) {
      const codec = segmentCodec(preset)!;
      const segments = planSegments({ totalSamples: SAMPLES, segmentSamples: SEGMENT_SECONDS * RATE, codec, sampleRate: RATE });
      const frame = codec.frameSize(RATE);
      assert.equal(segments.length, 4, preset.id);
      for (const s of segments) {
        assert.equal(s.start % frame, 0, `${preset.id} segment ${s.index} starts on a frame`);
        assert.equal(s.encodeFrom, Math.max(0, s.start - codec.preRollFrames * frame));
        if (s.end !== undefined) assert.equal(segments[s.index + 1]!.start, s.end, 'segments tile the input');
      }
      assert.equal(segments.at(-1)!.end, undefined, 'the last segment runs to the end');
    }
    const opus = segmentCodec(presets.find((p) => p.id === 'opus-96k')!)!;
    assert.ok(opus.preRollFrames * 960 >= 48000 * 0.08, 'Opus gets at least 80 ms of pre-roll');
    const aac = segmentCodec(presets.find((p) => p.id === 'aac-256k')!)!;
    assert.ok(aac.preRollFrames >= 64, 'native AAC gets at least 64 frames of pre-roll');
  });

  it('refuses to join a preset it cannot make exact, rather than writing a seam', async () => {
    const vorbis = presets.find((p) => p.id === 'vorbis-q5')!;
    const segments = planSegments({ totalSamples: SAMPLES, segmentSamples: SEGMENT_SECONDS * RATE, codec: segmentCodec(vorbis)!, sampleRate: RATE });
    await assert.rejects(joinSegments(vorbis, segments, segments.map(() => '/nonexistent'), path.join(dir, 'x.ogg')), /cannot be joined/);
  });

  for (const preset of presets.filter(canSegment)) {
    describe(preset.id, () => {
      const got = () => outputs.get(preset.id)!;
      const seams = () => got().segments.slice(1).map((s) => s.start);

      it('decodes to exactly as many samples as one pass (and as the input)', async () => {
        const [joined, onePass] = await Promise.all([pcm(got().joined), pcm(got().onePass)]);
        assert.equal(got().segments.length, 4);
        assert.equal(joined.length, onePass.length);
        // ffmpeg 5.1 decodes AAC in MP4 to whole packets (DESIGN.md), and Opus runs at 48 kHz:
        // their lengths against the input are checked with the headers.
        if (preset.codec !== 'aac' && preset.codec !== 'libopus') assert.equal(joined.length, inputPcm.length);
      });

      if (preset.lossless) {
        it('is bit-identical to the input, and byte-identical to the one-pass file', async () => {
          const joinedPcm = preset.codec === 'flac' ? await flacPcm(got().joined) : wavData(await readFile(got().joined));
          assert.ok(joinedPcm.equals(inputPcm), 'decoded samples equal the input');
          assert.ok((await readFile(got().joined)).equals(await readFile(got().onePass)), 'same bytes as one pass');
        });
      } else {
        it('shows no seam: the error near every seam is within the file’s usual error, against one pass and against the input', async () => {
          const [joined, onePass] = await Promise.all([pcm(got().joined), pcm(got().onePass)]);
          const input = preset.sampleRate === 48000 ? await pcm48(inputPath) : inputPcm;
          for (const [name, reference] of [['one pass', onePass], ['input', input]] as const) {
            const { worstSeam, usual } = seamReport(joined, reference, seams());
            // Against one pass, Opus decodes identically (−∞ everywhere): then so must the seams.
            if (name === 'input') assert.ok(Number.isFinite(usual) && usual < -20, `${name}: the usual error (${usual.toFixed(1)} dB) is coding noise`);
            assert.ok(worstSeam <= usual + SEAM_MARGIN_DB, `${name}: worst seam window ${worstSeam.toFixed(1)} dB vs usual ${usual.toFixed(1)} dB`);
          }
        });
      }

      it('has headers a format’s own tools accept, with the whole file’s length', async () => {
        const file = got().joined;
        const [info, oneInfo] = await Promise.all([mediainfo(file), mediainfo(got().onePass)]);
        assert.equal(info.general.Duration, oneInfo.general.Duration, 'mediainfo duration as one pass');
        if (preset.codec === 'flac') {
          const test = await tool('flac', ['-t', '-s', file]);
          assert.equal(test.code, 0, `flac -t: ${test.stderr}`);
          const show = await tool('metaflac', ['--show-total-samples', '--show-md5sum', file]);
          assert.deepEqual(show.stdout.trim().split('\n'), [String(SAMPLES), createHash('md5').update(inputPcm).digest('hex')]);
        } else if (preset.codec === 'pcm_s16le') {
          const wav = await readFile(file);
          assert.equal(wav.readUInt32LE(4), wav.length - 8, 'RIFF size');
          assert.equal(wavData(wav).length, SAMPLES * 4, 'data size');
        } else if (preset.codec === 'aac') {
          // The edit list trims the priming and the end: mediainfo counts the samples it leaves.
          assert.equal(Number(info.audio.SamplingCount), SAMPLES, 'samples after the edit list');
          assert.equal(info.audio.SamplingCount, oneInfo.audio.SamplingCount);
          const faad = await tool('faad', ['-q', '-o', `${file}.faad.wav`, file]);
          assert.equal(faad.code, 0, faad.stderr);
          assert.ok(Number((await mediainfo(`${file}.faad.wav`)).audio.SamplingCount) >= SAMPLES, 'faad decodes the whole file');
        } else if (preset.codec === 'libopus') {
          for (const checker of ['opusinfo', 'ogginfo']) {
            const check = await tool(checker, [file]);
            assert.equal(check.code, 0, check.stderr);
            assert.doesNotMatch(check.stdout + check.stderr, /warning|error/i, `${checker}: ${check.stdout}`);
          }
          const [ogg, oneOgg] = [await readFile(file), await readFile(got().onePass)];
          assert.equal(Number(lastGranule(ogg)) - opusPreSkip(ogg), SECONDS * 48000, 'samples after pre-skip');
          assert.equal(opusPreSkip(ogg), opusPreSkip(oneOgg));
          assert.equal(lastGranule(ogg), lastGranule(oneOgg));
        } else {
          const check = await tool('mp3val', [file]);
          assert.equal(check.code, 0);
          assert.doesNotMatch(check.stdout, /WARNING|ERROR/, check.stdout);
          const [lame, oneLame] = [readLameHeader(await readFile(file)), readLameHeader(await readFile(got().onePass))];
          assert.equal(lame?.gaplessSamples, SAMPLES, 'gapless sample count from the LAME header');
          assert.deepEqual([lame.frames, lame.delay, lame.padding], [oneLame?.frames, oneLame?.delay, oneLame?.padding], 'frames, delay and padding as one pass');
        }
      });

      it('carries the tags and cover as one pass does', async () => {
        const [joined, onePass] = await Promise.all([ffprobe(got().joined), ffprobe(got().onePass)]);
        assert.equal(joined.tags.title, onePass.tags.title);
        assert.equal(joined.tags.artist, onePass.tags.artist);
        const covers = (p: typeof joined) => p.streams.filter((s) => s.disposition?.attached_pic === 1).length;
        assert.equal(covers(joined), covers(onePass));
        if (preset.carriesCover || preset.codec === 'libopus') assert.equal(covers(joined), 1);
      });
    });
  }

  it('the seam check can fail: a 64-sample dropout at one MP3 seam stands out', async () => {
    const { joined, onePass, segments } = outputs.get('mp3-320k')!;
    const [good, reference] = await Promise.all([pcm(joined), pcm(onePass)]);
    const seam = segments[2]!.start;
    const broken = Buffer.from(good);
    broken.fill(0, seam * 4, (seam + 64) * 4);
    const { worstSeam, usual } = seamReport(broken, reference, [seam]);
    assert.ok(worstSeam > usual + 10, `a 64-sample dropout reads ${worstSeam.toFixed(1)} dB against ${usual.toFixed(1)} dB`);
  });
});

describe('segments see exactly the samples one pass sees, also when resampled and dithered', () => {
  let dir = '';
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a 10 s 48 kHz mono 24-bit input in 3 s segments: lossless joins are byte-identical to one pass, every join as long', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-segments-hires-'));
    const inputPath = path.join(dir, 'input.flac');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'aevalsrc=0.3*sin(2*PI*440*t)+0.05*(random(0)-0.5):s=48000:d=10', '-ac', '1', '-c:a', 'flac', '-sample_fmt', 's32', '-bits_per_raw_sample', '24', inputPath]);
    const input = await media.probe(inputPath);
    for (const preset of presets.filter(canSegment)) {
      const onePass = path.join(dir, `one-${preset.id}.${preset.extension}`);
      const joined = path.join(dir, `joined-${preset.id}.${preset.extension}`);
      await media.transcode({ inputPath, input, outputs: [{ preset, path: onePass }], signal: new AbortController().signal, limits, onProgress: () => undefined });
      const segments = await encodeSegmented({ inputPath, input, preset, outPath: joined, scratchDir: dir, segmentSeconds: 3, parallel: 2 });
      assert.equal(segments.length, 3, preset.id);
      if (preset.lossless) assert.ok((await readFile(joined)).equals(await readFile(onePass)), `${preset.id}: same bytes as one pass`);
      assert.equal((await pcm(joined)).length, (await pcm(onePass)).length, `${preset.id}: as long as one pass`);
    }
  });
});
