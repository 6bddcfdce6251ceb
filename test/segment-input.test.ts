import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { trimFilter } from '../src/media/ffmpeg-args.ts';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { gainFilters, type LoudnessPlan } from '../src/media/loudness.ts';
import { isOggMuxer } from '../src/media/ogg-cover.ts';
import { outputSampleRate, presets, type Preset } from '../src/media/presets.ts';
import { planSegments, segmentCodec, type Segment } from '../src/media/segments/index.ts';
import { segmentEncodeArgs } from '../src/media/segments/encode-args.ts';
import { runFfmpeg } from '../src/media/segments/run-ffmpeg.ts';
import { checkWavTail, readWavLayout } from '../src/media/segments/wav-header.ts';
import { pipedWavHeader, prependHeader } from '../src/media/segments/wav-piped-header.ts';
import { MediaError, type Media, type ProbeResult, type SegmentEncodeResult, type SegmentInput, type TrimRange } from '../src/media/types.ts';
import { worthSegmenting } from '../src/domain/segmented/plan.ts';
import { backend } from './helpers/backends.ts';
import { ApiClient, type FileJson } from './helpers/clients.ts';
import { toolBytes } from './helpers/fidelity-tools.ts';
import { withoutSerials } from './helpers/ogg-pages.ts';
import { SIGNATURE, startRangeServer, type RangeServer } from './helpers/range-server.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';

const run = promisify(execFile);
const media = createFfmpegMedia({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallTimeoutMs: 60_000 });
const limits = { maxInputSeconds: 3600, maxOutputBytes: 2 ** 31 };
const SECONDS = 15;
const SEGMENT_SECONDS = 5;
const lossy = presets.filter(worthSegmenting);

/** A stored file as a part sees it, counting what it is asked for. */
function fileInput(file: string, size: number, direct: { inPlace?: boolean; url?: string } = {}) {
  const asked = { ranges: [] as { start: number; end: number }[], whole: 0 };
  const { url } = direct;
  const source: SegmentInput = {
    ...(direct.inPlace ? { localFile: file } : {}),
    ...(url === undefined ? {} : { url: () => Promise.resolve(url) }),
    size,
    read: (range) => {
      asked.ranges.push(range);
      return Promise.resolve(createReadStream(file, range));
    },
    localPath: () => {
      asked.whole++;
      return Promise.resolve(file);
    },
  };
  return { source, asked };
}

const signal = new AbortController().signal;
const noProgress = () => undefined;

/** Today's segment command: the whole file decoded from its start, trimmed and gained in the chain. */
async function fromStart(file: string, input: ProbeResult, preset: Preset, segment: Segment, out: string, trim?: TrimRange, loudness?: LoudnessPlan) {
  const chain = [trimFilter(trim, input.sampleRate), loudness ? gainFilters(loudness) : ''].filter(Boolean).join(',');
  await runFfmpeg(segmentEncodeArgs(file, input, preset, segment, out, chain ? { gain: chain } : {}));
}

function segmentsOf(input: ProbeResult, preset: Preset, seconds = input.durationMs / 1000): Segment[] {
  const rate = outputSampleRate(preset, input.sampleRate);
  return planSegments({ totalSamples: Math.round(seconds * rate), segmentSamples: SEGMENT_SECONDS * rate, codec: segmentCodec(preset)!, sampleRate: rate });
}

/** Moving tones and noise in each channel; `layout` and `codec` pick the WAV's shape. */
const signalFor = (rate: number, seconds = SECONDS) =>
  `aevalsrc=0.3*sin(2*PI*440*t)*sin(2*PI*0.5*t)+0.1*sin(2*PI*3000*t+sin(2*PI*3*t))+0.04*(random(0)-0.5)|0.25*sin(2*PI*554*t)+0.08*sin(2*PI*7000*t)*sin(2*PI*0.2*t)+0.04*(random(1)-0.5):s=${rate}:d=${seconds}`;

const inputs = [
  { name: '16-bit 44.1 kHz stereo', rate: 44100, args: ['-c:a', 'pcm_s16le'] },
  { name: '24-bit 44.1 kHz stereo', rate: 44100, args: ['-c:a', 'pcm_s24le'] },
  { name: '16-bit 48 kHz stereo', rate: 48000, args: ['-c:a', 'pcm_s16le'] },
  { name: '16-bit 44.1 kHz mono', rate: 44100, args: ['-ac', '1', '-c:a', 'pcm_s16le'] },
  { name: '24-bit 48 kHz mono', rate: 48000, args: ['-ac', '1', '-c:a', 'pcm_s24le'] },
];
const TAGS = ['-metadata', 'title=Ranges', '-metadata', 'artist=The Byte Range'];

/**
 * Whether two encodes of a segment are the same file. A first segment is not muxed bit-exact (it
 * carries the tags as one pass writes them), so ffmpeg gives an Ogg output a random stream serial:
 * Ogg files compare with the serials (and the CRCs over them) zeroed, every other byte as is.
 */
async function sameFile(preset: Preset, a: string, b: string): Promise<boolean> {
  const [x, y] = [await readFile(a), await readFile(b)];
  return isOggMuxer(preset.muxer) ? withoutSerials(x).equals(withoutSerials(y)) : x.equals(y);
}

/** The tags ffprobe reads from a file, container's and audio stream's, with lower-case keys. */
async function tagsOf(file: string): Promise<Record<string, string>> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format_tags:stream_tags', '-select_streams', 'a:0', '-of', 'json', file]);
  const probed = JSON.parse(stdout) as { format?: { tags?: Record<string, string> }; streams?: { tags?: Record<string, string> }[] };
  const all = { ...probed.streams?.[0]?.tags, ...probed.format?.tags };
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), v]));
}

describe('segments read only their bytes of a PCM WAV, and encode exactly what decoding from the start encodes', () => {
  let dir = '';
  let server: RangeServer;
  const made = new Map<string, { file: string; input: ProbeResult; size: number }>();

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-seg-input-'));
    server = await startRangeServer();
    for (const { name, rate, args } of inputs) {
      const file = path.join(dir, `${name.replace(/\W+/g, '-')}.wav`);
      // Tags put a LIST chunk before the samples, as real files have.
      await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', signalFor(rate), ...TAGS, ...args, file]);
      made.set(name, { file, input: await media.probe(file), size: (await stat(file)).size });
    }
  });

  after(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const { name } of inputs) {
    it(`${name}: every later segment of every lossy segmented preset is byte-identical through a byte range`, async () => {
      const { file, input, size } = made.get(name)!;
      for (const preset of lossy) {
        for (const segment of segmentsOf(input, preset).filter((s) => s.index > 0)) {
          const reference = path.join(dir, `ref-${preset.id}-${segment.index}.${preset.extension}`);
          const ranged = path.join(dir, `range-${preset.id}-${segment.index}.${preset.extension}`);
          await fromStart(file, input, preset, segment, reference);
          const { source, asked } = fileInput(file, size);
          const result = await media.encodeSegment({ source, input, preset, segment, outPath: ranged, signal, limits, onProgress: noProgress });
          const label = `${name}, ${preset.id}, segment ${segment.index}`;
          assert.equal(result.input, 'range', `${label}: ${JSON.stringify(result)}`);
          assert.equal(asked.whole, 0, `${label} never asks for the whole file`);
          const piped = asked.ranges.at(-1)!;
          assert.ok(piped.start > 0 && piped.end - piped.start + 1 < size * 0.7, `${label} reads a part of the file (${JSON.stringify(piped)})`);
          assert.ok((await readFile(ranged)).equals(await readFile(reference)), `${label}: the outputs differ`);
          // On disk ffmpeg reads the same window of the stored file itself: only the header passes through here.
          const inPlace = fileInput(file, size, { inPlace: true });
          const readInPlace = await media.encodeSegment({ source: inPlace.source, input, preset, segment, outPath: ranged, signal, limits, onProgress: noProgress });
          assert.deepEqual(readInPlace, { ...result, readBy: 'file' }, label);
          assert.equal(inPlace.asked.whole, 0, `${label} in place never asks for the whole file`);
          assert.ok(inPlace.asked.ranges.every((r) => r.end - r.start < 1024 * 1024), `${label} in place reads no samples through a stream: ${JSON.stringify(inPlace.asked.ranges)}`);
          assert.ok((await readFile(ranged)).equals(await readFile(reference)), `${label} in place: the outputs differ`);
          // On S3 ffmpeg fetches the same window from a URL: one request for exactly those bytes.
          const byUrl = fileInput(file, size, { url: server.urlOf(file) });
          const before = server.ranges.length;
          const readByUrl = await media.encodeSegment({ source: byUrl.source, input, preset, segment, outPath: ranged, signal, limits, onProgress: noProgress });
          assert.deepEqual(readByUrl, { ...result, readBy: 'url' }, label);
          assert.equal(byUrl.asked.whole, 0, `${label} by URL never asks for the whole file`);
          assert.ok(byUrl.asked.ranges.every((r) => r.end - r.start < 1024 * 1024), `${label} by URL reads no samples through a stream: ${JSON.stringify(byUrl.asked.ranges)}`);
          assert.deepEqual(server.ranges.slice(before), [`bytes=${piped.start}-${piped.end}`], `${label}: ffmpeg asked for the segment's range once`);
          assert.ok((await readFile(ranged)).equals(await readFile(reference)), `${label} by URL: the outputs differ`);
          await rm(ranged);
          await rm(reference);
        }
      }
    });

    it(`${name}: the first segment of every lossy segmented preset reads a range behind the file's header, byte-identical, tags and all`, async () => {
      const { file, input, size } = made.get(name)!;
      const layout = readWavLayout(await readFile(file), size);
      assert.ok(typeof layout !== 'string', String(layout));
      for (const preset of lossy) {
        const segment = segmentsOf(input, preset)[0]!;
        const reference = path.join(dir, `ref-${preset.id}-0.${preset.extension}`);
        const ranged = path.join(dir, `range-${preset.id}-0.${preset.extension}`);
        await fromStart(file, input, preset, segment, reference);
        const { source, asked } = fileInput(file, size);
        const result = await media.encodeSegment({ source, input, preset, segment, outPath: ranged, signal, limits, onProgress: noProgress });
        const label = `${name}, ${preset.id}, segment 0`;
        assert.equal(result.input, 'range', `${label}: ${JSON.stringify(result)}`);
        assert.equal(asked.whole, 0, `${label} never asks for the whole file`);
        const piped = asked.ranges.at(-1)!;
        assert.equal(piped.start, layout.dataOffset, `${label} starts at the first sample`);
        assert.ok(piped.end - piped.start + 1 < size * 0.7, `${label} reads a part of the file (${JSON.stringify(piped)})`);
        assert.ok(await sameFile(preset, ranged, reference), `${label}: the outputs differ`);
        const tags = await tagsOf(ranged);
        assert.equal(tags.title, 'Ranges', `${label}: ${JSON.stringify(tags)}`);
        assert.equal(tags.artist, 'The Byte Range', `${label}: ${JSON.stringify(tags)}`);
        await rm(ranged);
        await rm(reference);
      }
    });
  }

  it('with a trim and a loudness gain, AAC, MP3 and Opus segments are byte-identical too', async () => {
    const { file, input, size } = made.get('16-bit 48 kHz stereo')!;
    const trim = { start: 1.37, end: 13.81 };
    const loudness: LoudnessPlan = { method: 'linear', gainDb: -3.4, ceilingDbtp: -1, sampleRate: 48000 };
    const trimmed = { ...input, durationMs: Math.round((trim.end - trim.start) * 1000) };
    const layout = readWavLayout(await readFile(file), size);
    assert.ok(typeof layout !== 'string', String(layout));
    const { dataOffset } = layout;
    for (const preset of lossy.filter((p) => ['aac-256k', 'mp3-320k', 'opus-96k'].includes(p.id))) {
      // The first segment too: its bytes start at the trim's first sample.
      for (const segment of segmentsOf(trimmed, preset)) {
        const reference = path.join(dir, `trim-ref.${preset.extension}`);
        const ranged = path.join(dir, `trim-range.${preset.extension}`);
        await fromStart(file, input, preset, segment, reference, trim, loudness);
        const { source, asked } = fileInput(file, size);
        const result = await media.encodeSegment({ source, input: trimmed, preset, segment, outPath: ranged, signal, limits, onProgress: noProgress, trim, loudness });
        assert.equal(result.input, 'range', JSON.stringify(result));
        if (segment.index === 0) assert.equal(asked.ranges.at(-1)!.start, dataOffset + Math.round(trim.start * 48000) * 4, 'the trim is in the byte range');
        assert.ok(await sameFile(preset, ranged, reference), `${preset.id} segment ${segment.index}: the outputs differ`);
      }
    }
  });

  it('a resampled segment started off the rate ratio’s period is not identical (the check can fail)', async () => {
    const { file, input } = made.get('16-bit 44.1 kHz stereo')!;
    const opus = presets.find((p) => p.id === 'opus-96k')!;
    const segment = segmentsOf(input, opus)[1]!;
    const reference = path.join(dir, 'control-ref.opus');
    await fromStart(file, input, opus, segment, reference);
    // 147 input samples make 160 at 48 kHz; start one input sample past a period boundary.
    const layout = readWavLayout(await readFile(file), (await stat(file)).size);
    assert.ok(typeof layout !== 'string');
    const periods = Math.floor((segment.encodeFrom - 24000) / 160);
    const start = layout.dataOffset + (periods * 147 + 1) * 4;
    const out = path.join(dir, 'control.opus');
    const args = segmentEncodeArgs({ rawFormat: 's16le', sampleRate: 44100, channels: 2 }, input, opus, { ...segment, encodeFrom: segment.encodeFrom - periods * 160, encodeTo: segment.encodeTo! - periods * 160 }, out);
    await ffmpegFed(args, (await readFile(file)).subarray(start, layout.dataOffset + layout.dataBytes));
    assert.ok(!(await readFile(out)).equals(await readFile(reference)), 'a misaligned start must show');
  });

  it('a first segment piped behind a header without the file’s LIST chunk is not identical (the check sees the tags)', async () => {
    const { file, input, size } = made.get('16-bit 44.1 kHz stereo')!;
    const opus = presets.find((p) => p.id === 'opus-96k')!;
    const segment = segmentsOf(input, opus)[0]!;
    const reference = path.join(dir, 'control-first-ref.opus');
    const ranged = path.join(dir, 'control-first-range.opus');
    await fromStart(file, input, opus, segment, reference);
    const { source, asked } = fileInput(file, size);
    await media.encodeSegment({ source, input, preset: opus, segment, outPath: ranged, signal, limits, onProgress: noProgress });
    assert.ok(await sameFile(opus, ranged, reference), 'with the header the outputs are the same');
    // The same samples behind the stored fmt chunk alone: a WAV as valid, but with no tags.
    const { start, end } = asked.ranges.at(-1)!;
    const stored = await readFile(file);
    assert.equal(stored.toString('latin1', 12, 16), 'fmt ');
    const untagged = riff(stored.subarray(12, 20 + stored.readUInt32LE(16)), chunk('data', stored.subarray(start, end + 1)));
    const out = path.join(dir, 'control-first.opus');
    await ffmpegFed(segmentEncodeArgs({ container: 'wav' }, input, opus, segment, out), untagged);
    assert.ok(!(await sameFile(opus, out, reference)), 'a header without the tags must show');
  });

  it('by URL, a body cut short or a refused URL fails the segment with a message that does not carry the URL', async () => {
    const { file, input, size } = made.get('16-bit 44.1 kHz stereo')!;
    const aac = presets.find((p) => p.id === 'aac-256k')!;
    const segment = segmentsOf(input, aac)[1]!;
    const out = path.join(dir, 'cut.m4a');
    const encode = () => media.encodeSegment({ source: fileInput(file, size, { url: server.urlOf(file) }).source, input, preset: aac, segment, outPath: out, signal, limits, onProgress: noProgress });
    const failsWithoutUrl = (why: string) => (err: unknown) => {
      assert.ok(err instanceof MediaError, `${why}: ${String(err)}`);
      assert.equal(err.kind, 'failed', why);
      for (const secret of [SIGNATURE, '127.0.0.1', 'X-Amz']) assert.ok(!err.message.includes(secret), `${why}: "${err.message}" shows ${secret}`);
      return true;
    };
    try {
      // Half the segment's bytes, then the connection drops: ffmpeg must not take that for the end.
      server.cutAfter(200_000);
      await assert.rejects(encode(), failsWithoutUrl('cut short'));
      server.cutAfter(undefined);
      server.refuse(true);
      await assert.rejects(encode(), failsWithoutUrl('refused'));
    } finally {
      server.cutAfter(undefined);
      server.refuse(false);
    }
    // The control: the same request whole succeeds.
    assert.deepEqual((await encode()).input, 'range');
  });
});

/** Runs ffmpeg with `bytes` on its stdin. */
function ffmpegFed(args: string[], bytes: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = execFile('ffmpeg', args, (err) => (err ? reject(err) : resolve()));
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(bytes);
  });
}

/** A RIFF chunk: id, little-endian size, body (and the pad byte of an odd body). */
const chunk = (id: string, body: Buffer, size = body.length) => {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32LE(size >>> 0, 4);
  return Buffer.concat([head, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
};
const fmt = (tag: number, channels: number, rate: number, bits: number, extra = Buffer.alloc(0)) => {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(tag, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE((rate * channels * bits) / 8, 8);
  b.writeUInt16LE((channels * bits) / 8, 12);
  b.writeUInt16LE(bits, 14);
  return chunk('fmt ', Buffer.concat([b, extra]));
};
/** cbSize, valid bits, channel mask and the PCM sub-format GUID of a WAVE_FORMAT_EXTENSIBLE header. */
const extensible = (mask: number, validBits = 16) => {
  const b = Buffer.alloc(24);
  b.writeUInt16LE(22, 0);
  b.writeUInt16LE(validBits, 2);
  b.writeUInt32LE(mask, 4);
  Buffer.from([1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71]).copy(b, 8);
  return b;
};
const riff = (...chunks: Buffer[]) => {
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), ...chunks]);
  return Buffer.concat([Buffer.from('RIFF', 'latin1'), Buffer.from(new Uint32Array([body.length]).buffer), body]);
};

describe('hostile WAV headers fall back to decoding the whole file', () => {
  let dir = '';
  let pcm: Buffer;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-seg-hostile-'));
    const { stdout } = await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', signalFor(44100, 24), '-f', 's16le', '-c:a', 'pcm_s16le', '-'], { encoding: 'buffer', maxBuffer: 1 << 26 });
    pcm = stdout;
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const half = () => pcm.length / 2;
  const hostile: { name: string; bytes: () => Buffer; why: RegExp }[] = [
    { name: 'data size 0xFFFFFFFF', bytes: () => riff(fmt(1, 2, 44100, 16), chunk('data', pcm, 0xffffffff)), why: /4294967295/ },
    { name: 'two data chunks (ffmpeg plays the last)', bytes: () => riff(fmt(1, 2, 44100, 16), chunk('data', pcm.subarray(0, half())), chunk('data', pcm.subarray(half()))), why: /after the data/ },
    { name: 'an odd-sized chunk before the data', bytes: () => riff(fmt(1, 2, 44100, 16), chunk('junk', Buffer.from('odd')), chunk('data', pcm)), why: /odd size/ },
    { name: 'WAVE_FORMAT_EXTENSIBLE with 12 valid bits', bytes: () => riff(fmt(0xfffe, 2, 44100, 16, extensible(0x3, 12)), chunk('data', pcm)), why: /valid bits/ },
    { name: 'truncated data', bytes: () => riff(fmt(1, 2, 44100, 16), chunk('data', pcm, pcm.length + 400_000)), why: /past the end/ },
  ];

  for (const { name, bytes, why } of hostile) {
    it(`${name}: the segment decodes from the start, says why, and matches today's output`, async () => {
      const file = path.join(dir, 'hostile.wav');
      await writeFile(file, bytes());
      const input = await media.probe(file);
      const preset = presets.find((p) => p.id === 'aac-256k')!;
      const segment = segmentsOf(input, preset)[1]!;
      const { source, asked } = fileInput(file, (await stat(file)).size);
      const out = path.join(dir, 'hostile.m4a');
      const reference = path.join(dir, 'hostile-ref.m4a');
      const result = await media.encodeSegment({ source, input, preset, segment, outPath: out, signal, limits, onProgress: noProgress });
      assert.equal(result.input, 'file');
      assert.match(result.input === 'file' ? result.reason : '', why);
      assert.equal(asked.whole, 1);
      await fromStart(file, input, preset, segment, reference);
      assert.ok((await readFile(out)).equals(await readFile(reference)));
    });
  }

  /** The ID3v2 tag ffmpeg writes at the start of an MP3, with `extra` inputs and mapping, padded to an even size. */
  async function id3Tag(name: string, extra: string[]): Promise<Buffer> {
    const mp3 = path.join(dir, `${name}.mp3`);
    await run('ffmpeg', ['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'sine=d=1', ...extra, '-metadata', 'title=Tagged', '-id3v2_version', '3', mp3]);
    const bytes = await readFile(mp3);
    assert.equal(bytes.toString('latin1', 0, 3), 'ID3');
    const size = bytes.subarray(6, 10).reduce((n, b) => (n << 7) | b, 0);
    const tag = bytes.subarray(0, 10 + size);
    return tag.length % 2 ? Buffer.concat([tag, Buffer.alloc(1)]) : tag;
  }

  const firstSegmentFallbacks: { name: string; bytes: (id3: { cover: Buffer; tags: Buffer }) => Buffer; why: RegExp; cover: boolean }[] = [
    { name: 'a cover (an ID3 chunk with a picture before the data)', bytes: (id3) => riff(fmt(1, 2, 44100, 16), chunk('id3 ', id3.cover), chunk('data', pcm)), why: /cover/, cover: true },
    { name: 'tags after the data (an ID3 chunk)', bytes: (id3) => riff(fmt(1, 2, 44100, 16), chunk('data', pcm), chunk('id3 ', id3.tags)), why: /after the data/, cover: false },
  ];
  for (const { name, bytes, why, cover } of firstSegmentFallbacks) {
    it(`the first segment of a WAV with ${name} reads the whole file, says why, and matches today's output; later segments still read ranges`, async () => {
      const png = path.join(dir, 'cover.png');
      await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=red:s=16x16', '-frames:v', '1', png]);
      const id3 = {
        cover: await id3Tag('cover', ['-i', png, '-map', '0', '-map', '1', '-c:v', 'copy', '-disposition:v', 'attached_pic']),
        tags: await id3Tag('tags', []),
      };
      const file = path.join(dir, 'first.wav');
      await writeFile(file, bytes(id3));
      const input = await media.probe(file);
      assert.equal(input.hasCover, cover);
      const preset = presets.find((p) => p.id === 'aac-256k')!;
      const [first, second] = segmentsOf(input, preset);
      const out = path.join(dir, 'first.m4a');
      const reference = path.join(dir, 'first-ref.m4a');
      const { source, asked } = fileInput(file, (await stat(file)).size);
      const result = await media.encodeSegment({ source, input, preset, segment: first!, outPath: out, signal, limits, onProgress: noProgress });
      assert.equal(result.input, 'file', JSON.stringify(result));
      assert.match(result.input === 'file' ? result.reason : '', why);
      assert.equal(asked.whole, 1);
      await fromStart(file, input, preset, first!, reference);
      assert.ok((await readFile(out)).equals(await readFile(reference)));
      // What the fallback keeps: the ID3 chunk's tag reaches the output from the stored file.
      assert.equal((await tagsOf(out)).title, 'Tagged');
      const later = await media.encodeSegment({ source: fileInput(file, (await stat(file)).size).source, input, preset, segment: second!, outPath: out, signal, limits, onProgress: noProgress });
      assert.equal(later.input, 'range', JSON.stringify(later));
    });
  }

  it('reads the layout of a plain header and accepts harmless chunks after the data', () => {
    const wav = riff(fmt(1, 1, 48000, 24), chunk('LIST', Buffer.from('INFOISFT')), chunk('data', Buffer.alloc(3 * 10)), chunk('id3 ', Buffer.alloc(12)));
    const layout = readWavLayout(wav, wav.length);
    assert.deepEqual(layout, { codec: 'pcm_s24le', rawFormat: 's24le', sampleRate: 48000, channels: 1, blockAlign: 3, dataOffset: 12 + 24 + 16 + 8, dataBytes: 30 });
    assert.equal(checkWavTail(wav.subarray(layout.dataOffset + layout.dataBytes)), undefined);
    assert.match(checkWavTail(chunk('id3 ', Buffer.alloc(12), 40)) ?? '', /not whole chunks/);
    assert.match(String(readWavLayout(riff(fmt(1, 3, 48000, 16), chunk('data', Buffer.alloc(60))), 200)), /3 channels/);
    const stereo = riff(fmt(0xfffe, 2, 44100, 16, extensible(0x3)), chunk('data', Buffer.alloc(40)));
    assert.deepEqual(readWavLayout(stereo, stereo.length), { codec: 'pcm_s16le', rawFormat: 's16le', sampleRate: 44100, channels: 2, blockAlign: 4, dataOffset: 12 + 8 + 40 + 8, dataBytes: 40 });
  });
});

describe('the WAV a first segment pipes', () => {
  it('is the stored header with the RIFF and data sizes of what is piped, the stored bytes untouched', () => {
    const wav = riff(fmt(1, 2, 44100, 16), chunk('LIST', Buffer.from('INFOINAM\x04\x00\x00\x00abc\x00', 'latin1')), chunk('data', Buffer.alloc(400)));
    const layout = readWavLayout(wav, wav.length);
    assert.ok(typeof layout !== 'string', String(layout));
    const header = pipedWavHeader(wav, layout, 40);
    assert.ok(Buffer.isBuffer(header));
    assert.equal(header.length, layout.dataOffset);
    assert.equal(header.readUInt32LE(4), layout.dataOffset - 8 + 40);
    assert.equal(header.readUInt32LE(layout.dataOffset - 4), 40);
    assert.ok(header.subarray(8, layout.dataOffset - 4).equals(wav.subarray(8, layout.dataOffset - 4)), 'every other header byte as stored');
    assert.equal(wav.readUInt32LE(layout.dataOffset - 4), 400, 'the stored bytes are not patched');
    assert.match(String(pipedWavHeader(wav, layout, 42)), /whole sample frames/);
    assert.match(String(pipedWavHeader(wav, { ...layout, blockAlign: 1 }, 0xffffffff)), /RIFF size/);
  });

  it('streams the header then the samples; a storage error ends it with that error, and its end releases the samples', async () => {
    const piped = prependHeader(Buffer.from('head'), Readable.from([Buffer.from('one'), Buffer.from('two')]));
    const chunks: Buffer[] = [];
    for await (const c of piped) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'headonetwo');

    const failing = new PassThrough();
    const broken = prependHeader(Buffer.from('head'), failing);
    failing.destroy(new Error('storage went away'));
    await assert.rejects(async () => {
      for await (const c of broken) void c;
    }, /storage went away/);

    const unread = new PassThrough();
    const abandoned = prependHeader(Buffer.from('head'), unread);
    abandoned.destroy();
    await once(unread, 'close');
    assert.ok(unread.destroyed);
  });
});

describe(`a segmented job over a WAV reads byte ranges in its parts (${backend.name})`, () => {
  let srv: TestServer;
  let api: ApiClient;
  let dir = '';
  const reads: (SegmentEncodeResult & { presetId: string; index: number })[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-seg-service-'));
    srv = await startServer({ SEGMENT_MIN_SECONDS: '20' });
    const real: Media = srv.app.deps.media;
    srv.app.deps.media = {
      ...real,
      encodeSegment: async (req) => {
        const result = await real.encodeSegment(req);
        reads.push({ ...result, presetId: req.preset.id, index: req.segment.index });
        return result;
      },
    };
    api = await ApiClient.signUp(srv.url, 'ranges');
  });

  after(async () => {
    await srv?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function transcode(file: string): Promise<{ decoded: Map<string, Buffer>; tags: Map<string, Record<string, string>> }> {
    const up = await api.upload(file, { presets: 'aac-256k,opus-96k' });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const done = await waitFor('completion', async () => {
      const { body } = await api.json<FileJson>('GET', `/files/${up.body.id}`);
      return ['completed', 'failed', 'canceled'].includes(body.status) ? body : undefined;
    }, 600_000);
    assert.equal(done.status, 'completed', done.error ?? '');
    const decoded = new Map<string, Buffer>();
    const tags = new Map<string, Record<string, string>>();
    for (const output of done.outputs) {
      const res = await api.request('GET', `/files/${done.id}/outputs/${output.preset}`);
      assert.equal(res.status, 200);
      const local = path.join(dir, `${path.basename(file)}-${output.preset}`);
      await writeFile(local, Buffer.from(await res.arrayBuffer()));
      decoded.set(output.preset, await toolBytes('ffmpeg', ['-v', 'error', '-i', local, '-map', '0:a:0', '-f', 's16le', '-']));
      tags.set(output.preset, await tagsOf(local));
    }
    return { decoded, tags };
  }

  it('every segment, the first too, read a range; the joined outputs decode exactly as from the same audio in FLAC (whole-file path), with its tags', async () => {
    const wav = path.join(dir, 'long.wav');
    const flac = path.join(dir, 'long.flac');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', signalFor(48000, 44), ...TAGS, '-c:a', 'pcm_s16le', wav]);
    await run('ffmpeg', ['-v', 'error', '-i', wav, '-c:a', 'flac', flac]);
    const fromWav = await transcode(wav);
    const wavReads = reads.splice(0);
    const fromFlac = await transcode(flac);
    assert.ok(wavReads.length >= 8, `split into segments: ${wavReads.length}`);
    assert.equal(wavReads.filter((r) => r.index === 0).length, 2, 'a first segment per preset');
    for (const r of wavReads) assert.equal(r.input, 'range', JSON.stringify(r));
    // Later segments pass no samples through the worker: ffmpeg reads the stored file, or on S3 a
    // presigned URL. The first ones pipe theirs behind the stored header (its tags).
    const direct = backend.s3Endpoint ? 'url' : 'file';
    for (const r of wavReads) assert.equal('readBy' in r && r.readBy, r.index === 0 ? false : direct, JSON.stringify(r));
    assert.ok(reads.every((r) => r.input === 'file'), 'FLAC segments decode the whole file');
    for (const preset of ['aac-256k', 'opus-96k']) {
      assert.ok(fromWav.decoded.get(preset)?.equals(fromFlac.decoded.get(preset)!), `${preset}: the same samples from ranges as from the whole file`);
      const tags = fromWav.tags.get(preset);
      assert.equal(tags?.title, 'Ranges', `${preset}: ${JSON.stringify(tags)}`);
      assert.equal(tags?.artist, 'The Byte Range', `${preset}: ${JSON.stringify(tags)}`);
      assert.equal(tags?.artist, fromFlac.tags.get(preset)?.artist);
    }
  });
});
