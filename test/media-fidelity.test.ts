import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { outputSampleRate, presets, type Preset } from '../src/media/presets.ts';
import { fixtures } from './helpers/audio.ts';
import { ApiClient, PageClient, type FileJson } from './helpers/clients.ts';
import { flacPcm, mediainfo, tool, toolBytes, wavData } from './helpers/fidelity-tools.ts';
import { readLameHeader } from './helpers/lame-header.ts';
import { lastGranule, opusPreSkip } from './helpers/ogg-pages.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { fileEnded, saveOutput } from './helpers/files.ts';

const run = promisify(execFile);
const media = createFfmpegMedia({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallTimeoutMs: 60_000 });
const limits = { maxInputSeconds: 3600, maxOutputBytes: 2 ** 31 };
const TITLE = 'Fidelity Test';
const ARTIST = 'Reprise';

interface Source {
  name: string;
  file: string;
  rate: number;
  /** Samples per channel, as the source decodes. */
  samples: number;
  /** Bit depth of a lossless source; 0 for a lossy one. */
  bits: number;
  /** How to read the source's PCM with a tool that is not ffmpeg (for lossless comparisons). */
  pcm?: () => Promise<Buffer>;
  tagged: boolean;
  /** The cover picture's bytes, when the source has one we can read independently. */
  cover?: Buffer | 'present';
}

/** 2.5 s of tone, a high partial and a little noise, so that low bits carry something. */
const signal = (rate: number) => ['-f', 'lavfi', '-i', `aevalsrc=0.3*sin(2*PI*440*t)+0.1*sin(2*PI*5000*t)+0.02*(random(0)-0.5):s=${rate}:d=2.5`];

describe('media fidelity, judged by flac, mp3val, opusinfo, ogginfo, faad and mediainfo', () => {
  let dir = '';
  const sources: Source[] = [];
  const make = async (name: string, args: string[]) => {
    const out = path.join(dir, name);
    await run('ffmpeg', ['-v', 'error', '-y', ...args, out]);
    return out;
  };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-fidelity-'));
    const jpeg = await make('cover.jpg', ['-f', 'lavfi', '-i', 'testsrc=s=160x120:d=1', '-frames:v', '1', '-c:v', 'mjpeg']);
    const png = await make('cover.png', ['-f', 'lavfi', '-i', 'testsrc=s=96x96:d=1', '-frames:v', '1', '-c:v', 'png']);
    const tags = ['-metadata', `title=${TITLE}`, '-metadata', `artist=${ARTIST}`, '-metadata', 'album=Fidelity'];
    const withCover = (picture: string) => ['-i', picture, '-map', '0:a', '-map', '1:v', '-c:v', 'copy', '-disposition:v', 'attached_pic'];

    const u8 = await make('mono-8bit-8k.wav', [...signal(8000), '-ac', '1', '-c:a', 'pcm_u8']);
    sources.push({ name: 'mono 8-bit 8 kHz WAV', file: u8, rate: 8000, samples: 20_000, bits: 8, tagged: false });

    const cd = await make('stereo-16-44k.flac', [...signal(44100), ...withCover(jpeg), '-ac', '2', '-c:a', 'flac', '-sample_fmt', 's16', ...tags]);
    sources.push({ name: 'stereo 16-bit 44.1 kHz FLAC, tagged, JPEG cover', file: cd, rate: 44100, samples: 110_250, bits: 16, pcm: () => flacPcm(cd), tagged: true, cover: await readFile(jpeg) });

    const hi = await make('stereo-24-96k.flac', [...signal(96000), ...withCover(png), '-ac', '2', '-c:a', 'flac', '-sample_fmt', 's32', '-bits_per_raw_sample', '24', ...tags]);
    sources.push({ name: 'stereo 24-bit 96 kHz FLAC, tagged, PNG cover', file: hi, rate: 96000, samples: 240_000, bits: 24, pcm: () => flacPcm(hi), tagged: true, cover: await readFile(png) });

    const top = await make('stereo-24-192k.wav', [...signal(192000), '-ac', '2', '-c:a', 'pcm_s24le']);
    sources.push({ name: 'stereo 24-bit 192 kHz WAV', file: top, rate: 192000, samples: 480_000, bits: 24, pcm: async () => wavData(await readFile(top)), tagged: false });

    const low = await make('mono-16-22k.flac', [...signal(22050), '-ac', '1', '-c:a', 'flac', '-sample_fmt', 's16']);
    sources.push({ name: 'mono 16-bit 22.05 kHz FLAC', file: low, rate: 22050, samples: 55_125, bits: 16, pcm: () => flacPcm(low), tagged: false });

    // The real files the other suites use.
    const tone = await fixtures.wav();
    sources.push({ name: 'tone.wav (stereo 16-bit 44.1 kHz)', file: tone, rate: 44100, samples: 176_400, bits: 16, pcm: async () => wavData(await readFile(tone)), tagged: false });
    const mp3 = await fixtures.mp3WithCover();
    const mp3Samples = readLameHeader(await readFile(mp3))?.gaplessSamples ?? 0;
    sources.push({ name: 'cover.mp3 (mono MP3, tags, JPEG cover)', file: mp3, rate: 44100, samples: mp3Samples, bits: 0, tagged: false, cover: 'present' });
    const hires = await fixtures.hiRes();
    sources.push({ name: 'hires.flac (stereo 24-bit 96 kHz)', file: hires, rate: 96000, samples: 288_000, bits: 24, pcm: () => flacPcm(hires), tagged: false });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('has every tool the suite judges by', async () => {
    for (const cmd of ['flac', 'metaflac', 'mp3val', 'opusinfo', 'ogginfo', 'vorbiscomment', 'faad', 'mediainfo']) {
      const { code, stderr } = await tool('sh', ['-c', `command -v ${cmd}`]);
      assert.equal(code, 0, `${cmd} is missing (scripts/install-system-deps.sh --test installs it): ${stderr}`);
    }
  });

  it('transcodes every source to every preset, and every output passes its own tools', async () => {
    for (const source of sources) {
      const out = path.join(dir, `out-${sources.indexOf(source)}`);
      await mkdir(out, { recursive: true });
      const input = await media.probe(source.file);
      const outputs = presets.map((preset) => ({ preset, path: path.join(out, `${preset.id}.${preset.extension}`) }));
      await media.transcode({ inputPath: source.file, input, outputs, signal: new AbortController().signal, limits, onProgress: () => undefined });
      for (const { preset, path: file } of outputs) {
        await judge(source, preset, file).catch((err: unknown) => {
          throw new Error(`${source.name} → ${preset.id}: ${(err as Error).message}`);
        });
      }
    }
  });
});

/** Samples per channel a one-pass encode of the source at the preset's rate has. */
function expectedSamples(source: Source, preset: Preset): { rate: number; samples: number } {
  const rate = outputSampleRate(preset, source.rate);
  const samples = (source.samples * rate) / source.rate;
  assert.ok(Number.isInteger(samples), 'sources are chosen to resample to whole sample counts');
  return { rate, samples };
}

async function judge(source: Source, preset: Preset, file: string): Promise<void> {
  const { rate, samples } = expectedSamples(source, preset);
  const info = await mediainfo(file);
  if (preset.codec === 'flac') {
    const test = await tool('flac', ['-t', '-s', file]);
    assert.equal(test.code, 0, `flac -t: ${test.stderr}`);
    const show = await tool('metaflac', ['--show-sample-rate', '--show-bps', '--show-total-samples', file]);
    assert.deepEqual(show.stdout.trim().split('\n').map(Number), [rate, 16, samples], 'rate, depth, total samples');
    if (source.pcm && source.bits === 16 && source.rate === 44100) assert.ok((await flacPcm(file)).equals(await source.pcm()), 'same PCM as the source');
  } else if (preset.codec === 'pcm_s16le') {
    assert.deepEqual([Number(info.audio.SamplingRate), Number(info.audio.BitDepth), Number(info.audio.SamplingCount)], [rate, 16, samples], 'rate, depth, samples');
    if (source.pcm && source.bits === 16 && source.rate === 44100) assert.ok(wavData(await readFile(file)).equals(await source.pcm()), 'same PCM as the source');
  } else if (preset.codec === 'aac') {
    const decoded = await tool('faad', ['-q', '-o', `${file}.faad.wav`, file]);
    assert.equal(decoded.code, 0, `faad: ${decoded.stderr}`);
    assert.ok(Number((await mediainfo(`${file}.faad.wav`)).audio.SamplingCount) >= samples, 'faad decodes the whole file');
    // The MP4 edit list is what makes a player trim the priming: mediainfo reads it.
    assert.deepEqual([Number(info.audio.SamplingRate), Number(info.audio.SamplingCount)], [rate, samples], 'rate, samples after the edit list');
  } else if (preset.codec === 'libmp3lame') {
    const check = await tool('mp3val', [file]);
    assert.equal(check.code, 0);
    assert.doesNotMatch(check.stdout, /WARNING|ERROR/, check.stdout);
    const lame = readLameHeader(await readFile(file));
    assert.equal(lame?.gaplessSamples, samples, 'gapless sample count from the LAME header');
    assert.equal(Number(info.audio.SamplingRate), rate);
  } else if (preset.codec === 'libopus') {
    const check = await tool('opusinfo', [file]);
    assert.equal(check.code, 0, check.stderr);
    assert.doesNotMatch(check.stdout + check.stderr, /warning|error/i, check.stdout);
    const ogg = await readFile(file);
    assert.equal(Number(lastGranule(ogg)) - opusPreSkip(ogg), samples, 'samples after pre-skip');
    if (source.cover) {
      const size = source.cover === 'present' ? '\\d+' : String(source.cover.length);
      assert.match(check.stdout, new RegExp(`METADATA_BLOCK_PICTURE=3\\|image/(jpeg|png)\\|\\|\\d+x\\d+x24\\|<${size} bytes of image data>`), 'cover picture comment');
    }
  } else if (preset.codec === 'libvorbis') {
    const check = await tool('ogginfo', [file]);
    assert.equal(check.code, 0, check.stderr);
    assert.doesNotMatch(check.stdout + check.stderr, /warning|error/i, check.stdout);
    assert.equal(Number(lastGranule(await readFile(file))), samples, 'samples');
    assert.equal(Number(info.audio.SamplingRate), rate);
    if (source.cover instanceof Buffer) {
      const comments = (await tool('vorbiscomment', ['-l', file])).stdout;
      const value = /^METADATA_BLOCK_PICTURE=(.+)$/m.exec(comments)?.[1] ?? '';
      const block = Buffer.from(value, 'base64');
      const mimeLength = block.readUInt32BE(4);
      const imageLength = block.readUInt32BE(8 + mimeLength + 4 + 16);
      assert.ok(block.subarray(block.length - imageLength).equals(source.cover), 'the picture is the source picture, byte for byte');
    }
  } else if (preset.codec === 'alac') {
    const depth = source.bits > 16 ? 24 : 16;
    assert.deepEqual([Number(info.audio.SamplingRate), Number(info.audio.BitDepth), Number(info.audio.SamplingCount)], [source.rate, depth, source.samples], 'keeps rate and depth');
    if (source.pcm && source.bits >= 16) {
      // No ALAC decoder but ffmpeg's is packaged here; the reference PCM comes from flac or the WAV itself.
      const pcm = await toolBytes('ffmpeg', ['-v', 'error', '-i', file, '-f', depth === 24 ? 's24le' : 's16le', '-']);
      assert.ok(pcm.equals(await source.pcm()), 'same PCM as the source');
    }
  } else {
    assert.fail(`no judge for ${preset.codec}`);
  }
  if (source.tagged) {
    if (preset.muxer !== 'wav') assert.deepEqual([info.general.Title, info.general.Performer], [TITLE, ARTIST], 'tags');
  }
  if (source.cover && preset.muxer !== 'wav') assert.equal(info.general.Cover, 'Yes', 'cover art');
}

describe('fidelity through the service (the job probes again what a stored row does not keep)', () => {
  let srv: TestServer;
  let api: ApiClient;
  before(async () => {
    srv = await startServer();
    api = await ApiClient.signUp(srv.url, 'listener');
  });
  after(() => srv.close());

  const transcode = async (file: string, presetIds: string[], fields: Record<string, string> = {}) => {
    const up = await api.upload(file, { presets: presetIds.join(','), ...fields });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    return fileEnded(api, up.body.id);
  };
  const download = (file: FileJson, preset: string, name: string) => saveOutput(api, file.id, preset, path.join(srv.dataDir, name));

  it('keeps 24-bit 96 kHz in ALAC, and carries cover art into Opus and Vorbis', async () => {
    const hires = await transcode(await fixtures.hiRes(), ['alac']);
    assert.equal(hires.status, 'completed', hires.error ?? '');
    const alac = await mediainfo(await download(hires, 'alac', 'hires.m4a'));
    assert.deepEqual([alac.audio.BitDepth, alac.audio.SamplingRate], ['24', '96000']);

    const covered = await transcode(await fixtures.mp3WithCover(), ['opus-96k', 'vorbis-q5']);
    assert.equal(covered.status, 'completed', covered.error ?? '');
    const opus = await tool('opusinfo', [await download(covered, 'opus-96k', 'cover.opus')]);
    assert.match(opus.stdout, /METADATA_BLOCK_PICTURE=3\|image\/jpeg\|\|64x64x24\|<\d+ bytes of image data>/);
    assert.match(opus.stdout, /title=Test Tone/);
    const vorbis = await mediainfo(await download(covered, 'vorbis-q5', 'cover.ogg'));
    assert.deepEqual([vorbis.general.Cover, vorbis.general.Title], ['Yes', 'Test Tone']);
  });

  it('keeps depth, rate and the Ogg cover when loudness normalization runs the audio through a filter graph', async () => {
    const hires = await transcode(await fixtures.hiRes(), ['alac', 'opus-96k'], { loudness: 'podcast' });
    assert.equal(hires.status, 'completed', hires.error ?? '');
    const alac = await mediainfo(await download(hires, 'alac', 'hires-loud.m4a'));
    assert.deepEqual([alac.audio.BitDepth, alac.audio.SamplingRate], ['24', '96000']);
    const covered = await transcode(await fixtures.mp3WithCover(), ['opus-96k'], { loudness: 'streaming' });
    assert.equal(covered.status, 'completed', covered.error ?? '');
    const opus = await tool('opusinfo', [await download(covered, 'opus-96k', 'cover-loud.opus')]);
    assert.match(opus.stdout, /METADATA_BLOCK_PICTURE=3\|image\/jpeg\|\|64x64x24\|<\d+ bytes of image data>/);
    assert.match(opus.stdout, /title=Test Tone/);
  });

  it('says what each preset does to depth and rate, in the API and on the upload form', async () => {
    const listed = await api.json<{ presets: { id: string; depthAndRate: string }[] }>('GET', '/presets');
    const said = Object.fromEntries(listed.body.presets.map((p) => [p.id, p.depthAndRate]));
    assert.equal(said.alac, "keeps the input's bit depth and sample rate, up to 24-bit/192 kHz");
    assert.equal(said['flac-cd'], 'always 44.1 kHz 16-bit');
    assert.equal(said['wav-44k-16'], 'always 44.1 kHz 16-bit');
    assert.equal(said['opus-96k'], 'always 48 kHz');
    const page = await PageClient.signUp(srv.url, 'reader');
    const { html } = await page.get('/files');
    assert.match(html, /ALAC \(Apple Lossless, M4A\) <small class="muted preset-note">keeps the input&#39;s bit depth and sample rate, up to 24-bit\/192 kHz<\/small>/);
  });
});
