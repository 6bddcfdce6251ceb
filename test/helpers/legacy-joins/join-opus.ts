import { readFile, writeFile } from 'node:fs/promises';
import { OggWriter, readOggStream, type OggStream } from './ogg-stream.ts';
import type { Segment } from '../../../src/media/segments/plan.ts';

/** ffmpeg's Ogg muxer puts about a second on a page; 50 packets of 20 ms do the same. */
const PAGE_PACKETS = 50;

function preSkip(stream: OggStream): number {
  const head = stream.packets[0];
  if (!head || head.toString('latin1', 0, 8) !== 'OpusHead') throw new Error('Opus segment does not start with OpusHead');
  return head.readUInt16LE(10);
}

/**
 * Joins Ogg Opus segments (RFC 7845): the first segment's OpusHead (pre-skip) and OpusTags
 * (tags, cover comment), then each segment's own audio packets, on new pages with one serial
 * number, page sequence numbers from zero and fresh CRCs. Granule positions count 960 samples a
 * packet from the start, as in one pass; the last page's granule is pre-skip plus the input's
 * length, taken from the last segment's own end, so players trim the end exactly.
 */
export async function joinOpus(segments: readonly Segment[], paths: readonly string[], outPath: string): Promise<void> {
  const streams = await Promise.all(paths.map(async (p) => readOggStream(await readFile(p))));
  const first = streams[0]!;
  const skip = preSkip(first);
  if (streams.some((s) => preSkip(s) !== skip)) throw new Error('Opus segments differ in pre-skip');
  const frameSize = segments[0]!.frameSize;
  const audio: Buffer[] = [];
  streams.forEach((stream, i) => {
    const segment = segments[i]!;
    // Packets 0 and 1 are OpusHead and OpusTags.
    const own = stream.packets.slice(2);
    if (BigInt(own.length * frameSize) < stream.lastGranule || BigInt((own.length - 1) * frameSize) >= stream.lastGranule) {
      throw new Error(`Opus segment ${i} has packets that are not ${frameSize} samples`);
    }
    const kept = own.slice(segment.skipFrames, segment.keepFrames === undefined ? undefined : segment.skipFrames + segment.keepFrames);
    if (segment.keepFrames !== undefined && kept.length !== segment.keepFrames) {
      throw new Error(`Opus segment ${i} has ${kept.length} packets where ${segment.keepFrames} were planned`);
    }
    audio.push(...kept);
  });
  const lastSegment = segments.at(-1)!;
  const end = streams.at(-1)!.lastGranule + BigInt(lastSegment.encodeFrom);
  const writer = new OggWriter(first.serial);
  writer.writePackets([first.packets[0]!], () => 0n, { first: true });
  writer.writePackets([first.packets[1]!], () => 0n);
  writer.writePackets(audio, (i) => (i === audio.length - 1 ? end : BigInt((i + 1) * frameSize)), { last: true, pagePackets: PAGE_PACKETS });
  await writeFile(outPath, writer.bytes());
}
