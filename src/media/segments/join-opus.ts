import { OggWriter, oggPackets } from './ogg-stream.ts';
import type { Segment } from './plan.ts';
import { JoinOutput, withSegments, type SegmentReader } from './segment-file.ts';

/** ffmpeg's Ogg muxer puts about a second on a page; 50 packets of 20 ms do the same. */
const PAGE_PACKETS = 50;
/** Packets 0 and 1 of each segment are OpusHead and OpusTags. */
const HEADER_PACKETS = 2;

function preSkip(head: Buffer | undefined): number {
  if (!head || head.toString('latin1', 0, 8) !== 'OpusHead') throw new Error('Opus segment does not start with OpusHead');
  return head.readUInt16LE(10);
}

interface OpusSegment {
  serial: number;
  /** OpusHead and OpusTags, copied: small, but the tags may hold the cover. */
  headers: Buffer[];
  audioPackets: number;
  lastGranule: bigint;
}

/** A first pass over a segment: its header packets and how many audio packets it has, not their bytes. */
async function indexSegment(reader: SegmentReader): Promise<OpusSegment> {
  const headers: Buffer[] = [];
  const packets = oggPackets(reader);
  for (let next = await packets.next(); ; next = await packets.next()) {
    if (next.done) {
      const { serial, packets: count, lastGranule } = next.value;
      return { serial, headers, audioPackets: Math.max(0, count - HEADER_PACKETS), lastGranule };
    }
    if (headers.length < HEADER_PACKETS) headers.push(Buffer.from(next.value));
  }
}

/** The packets a segment keeps, in a second pass over it. */
async function* keptPackets(reader: SegmentReader, segment: Segment): AsyncGenerator<Buffer> {
  const from = HEADER_PACKETS + segment.skipFrames;
  const to = segment.keepFrames === undefined ? Infinity : from + segment.keepFrames;
  let index = 0;
  for await (const packet of oggPackets(reader)) {
    if (index >= from && index < to) yield packet;
    index++;
  }
}

/**
 * Joins Ogg Opus segments (RFC 7845): the first segment's OpusHead (pre-skip) and OpusTags
 * (tags, cover comment), then each segment's own audio packets, on new pages with one serial
 * number, page sequence numbers from zero and fresh CRCs. Granule positions count 960 samples a
 * packet from the start, as in one pass; the last page's granule is pre-skip plus the input's
 * length, taken from the last segment's own end, so players trim the end exactly.
 *
 * Two passes over the segments: the first counts packets and checks them against the plan (the
 * page layout depends on which packet is the last), the second streams the kept packets through
 * the page writer into the output. Memory: the windows, the output buffer, the header packets.
 */
export async function joinOpus(segments: readonly Segment[], paths: readonly string[], outPath: string): Promise<void> {
  await withSegments(paths, async (readers) => {
    const indexed: OpusSegment[] = [];
    for (const reader of readers) indexed.push(await indexSegment(reader));
    const first = indexed[0]!;
    if (first.headers.length < HEADER_PACKETS) throw new Error('the first Opus segment has no OpusTags');
    const skip = preSkip(first.headers[0]);
    if (indexed.some((s) => preSkip(s.headers[0]) !== skip)) throw new Error('Opus segments differ in pre-skip');
    const frameSize = segments[0]!.frameSize;
    let total = 0;
    indexed.forEach((stream, i) => {
      const segment = segments[i]!;
      const own = stream.audioPackets;
      if (BigInt(own * frameSize) < stream.lastGranule || BigInt((own - 1) * frameSize) >= stream.lastGranule) {
        throw new Error(`Opus segment ${i} has packets that are not ${frameSize} samples`);
      }
      const kept = Math.max(0, Math.min(own, segment.keepFrames === undefined ? Infinity : segment.skipFrames + segment.keepFrames) - segment.skipFrames);
      if (segment.keepFrames !== undefined && kept !== segment.keepFrames) {
        throw new Error(`Opus segment ${i} has ${kept} packets where ${segment.keepFrames} were planned`);
      }
      total += kept;
    });
    const end = indexed.at(-1)!.lastGranule + BigInt(segments.at(-1)!.encodeFrom);
    async function* audio(): AsyncGenerator<Buffer> {
      for (const [i, reader] of readers.entries()) yield* keptPackets(reader, segments[i]!);
    }
    await JoinOutput.writeFile(outPath, async (out) => {
      const writer = new OggWriter(first.serial, (page) => out.write(page));
      await writer.writePackets([first.headers[0]!], 1, () => 0n, { first: true });
      await writer.writePackets([first.headers[1]!], 1, () => 0n);
      await writer.writePackets(audio(), total, (i) => (i === total - 1 ? end : BigInt((i + 1) * frameSize)), { last: true, pagePackets: PAGE_PACKETS });
    });
  });
}
