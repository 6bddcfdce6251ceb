import type { Readable } from 'node:stream';
import type { Preset } from './presets.ts';
import { rangeRefusal, segmentRange, type RangeRead } from './segments/range-read.ts';
import type { Segment } from './segments/plan.ts';
import { checkWavTail, readWavLayout, WAV_HEAD_BYTES, WAV_TAIL_BYTES, wavTailBytes, type WavLayout } from './segments/wav-header.ts';
import { pipedWavHeader } from './segments/wav-piped-header.ts';
import type { ProbeResult, SegmentInput, TrimRange } from './types.ts';

/** Codecs a plain WAV's data chunk holds that ffmpeg's raw demuxers read the same way. */
const PCM_CODECS = /^pcm_(u8|s16le|s24le|s32le|f32le|f64le)$/;

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * How a segment reads its bytes: later segments pipe them as raw PCM; the first pipes them after
 * `wavHeader` (the stored header, sizes patched), so its tags come through as from the file.
 */
export type RangePlan = { layout: WavLayout; read: RangeRead; wavHeader?: Buffer } | { reason: string };

/**
 * Whether this segment can read only its bytes of the stored input, and which: looks at the
 * probe and the preset first (no I/O), then at the file's first bytes and, when chunks follow the
 * samples, its last ones. Any doubt answers with a reason, and the segment decodes the whole file.
 */
export async function planRangeInput(source: SegmentInput, input: ProbeResult, preset: Preset, segment: Segment, trim?: TrimRange): Promise<RangePlan> {
  // The first segment carries the input's tags and cover. The cover comes from the stored file
  // (a picture stream, or an Ogg comment made from it); tags also come from the piped header.
  const first = segment.index === 0;
  if (first && input.hasCover) return { reason: 'the first segment carries the cover, read from the whole file' };
  if (input.format !== 'wav' || !PCM_CODECS.test(input.codec)) return { reason: `${input.format}/${input.codec} is not plain PCM WAV` };
  const refusal = rangeRefusal(input, preset);
  if (refusal) return { reason: refusal };
  const head = await bytesOf(await source.read({ start: 0, end: Math.min(source.size, WAV_HEAD_BYTES) - 1 }));
  const layout = readWavLayout(head, source.size);
  if (typeof layout === 'string') return { reason: layout };
  if (layout.codec !== input.codec || layout.sampleRate !== input.sampleRate || layout.channels !== input.channels) {
    return { reason: 'the header says otherwise than the probe' };
  }
  const tail = wavTailBytes(layout, source.size);
  if (tail > WAV_TAIL_BYTES) return { reason: `${tail} bytes of chunks after the data` };
  // Tags may live after the samples, and ffmpeg reads those only from a seekable file.
  if (first && tail > 0) return { reason: `the first segment carries the tags, and ${tail} bytes of chunks after the data may hold some` };
  if (tail > 0) {
    const start = layout.dataOffset + layout.dataBytes;
    const why = checkWavTail(await bytesOf(await source.read({ start, end: source.size - 1 })));
    if (why) return { reason: why };
  }
  const read = segmentRange(layout, input, preset, segment, trim);
  if (!read) return { reason: 'the segment lies outside the data' };
  if (!first) return { layout, read };
  const wavHeader = pipedWavHeader(head, layout, read.end - read.start + 1);
  return typeof wavHeader === 'string' ? { reason: wavHeader } : { layout, read, wavHeader };
}
