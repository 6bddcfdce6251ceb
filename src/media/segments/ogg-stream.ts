import { oggCrc32 } from './crc.ts';
import type { SegmentReader } from './segment-file.ts';

/**
 * One logical Ogg stream (RFC 3533) as packets, and back, a page at a time. Reading joins lacing
 * segments across pages; writing packs packets into pages of at most `pagePackets` packets, each
 * page stamped with the granule position its caller gives for the last packet that ends on it.
 */
export interface OggStreamSummary {
  serial: number;
  packets: number;
  /** The granule position of the last page that has one: the stream's end. */
  lastGranule: bigint;
}

/**
 * Yields each packet in order (a view into the reader's window, or a copy when it spans pages)
 * and returns what the stream adds up to once it is read to the end.
 */
export async function* oggPackets(reader: SegmentReader): AsyncGenerator<Buffer, OggStreamSummary> {
  let pending: Buffer[] = [];
  let serial: number | undefined;
  let lastGranule = -1n;
  let packets = 0;
  for (let at = 0; at < reader.size; ) {
    const head = await reader.bytes(at, 27);
    if (head.length < 27 || head.toString('latin1', 0, 4) !== 'OggS' || head[4] !== 0) throw new Error(`no Ogg page at byte ${at}`);
    const granule = head.readBigInt64LE(6);
    const pageSerial = head.readUInt32LE(14);
    serial ??= pageSerial;
    if (pageSerial !== serial) throw new Error('Ogg segment has more than one logical stream');
    const count = head[26]!;
    const lacing = await reader.bytes(at + 27, count);
    const bodyLength = lacing.reduce((sum, v) => sum + v, 0);
    const body = await reader.bytes(at + 27 + count, bodyLength);
    let offset = 0;
    for (const value of lacing) {
      pending.push(body.subarray(offset, offset + value));
      offset += value;
      if (value < 255) {
        packets++;
        yield pending.length === 1 ? pending[0]! : Buffer.concat(pending);
        pending = [];
      }
    }
    if (granule >= 0n) lastGranule = granule;
    at += 27 + count + bodyLength;
  }
  if (pending.length > 0) throw new Error('Ogg segment ends inside a packet');
  if (serial === undefined) throw new Error('empty Ogg segment');
  return { serial, packets, lastGranule };
}

interface PageSpec {
  flags: number;
  granule: bigint;
  lacing: number[];
  body: Buffer[];
}

export class OggWriter {
  private sequence = 0;

  constructor(private readonly serial: number, private readonly sink: (page: Buffer) => Promise<void>) {}

  private async emit(page: PageSpec): Promise<void> {
    const header = Buffer.alloc(27 + page.lacing.length);
    header.write('OggS', 0, 'latin1');
    header[5] = page.flags;
    header.writeBigInt64LE(page.granule, 6);
    header.writeUInt32LE(this.serial, 14);
    header.writeUInt32LE(this.sequence++, 18);
    header[26] = page.lacing.length;
    page.lacing.forEach((v, i) => (header[27 + i] = v));
    const bytes = Buffer.concat([header, ...page.body]);
    bytes.writeUInt32LE(oggCrc32(bytes), 22);
    await this.sink(bytes);
  }

  /**
   * Writes `count` packets from `packets` on fresh pages. `granuleAfter(i)` is the granule
   * position once packet i is complete; a page where no packet ends carries −1. `first`/`last`
   * set the BOS/EOS flags. The count is needed up front: the last packet never starts a new page.
   */
  async writePackets(packets: AsyncIterable<Buffer> | Iterable<Buffer>, count: number, granuleAfter: (index: number) => bigint, options: { first?: boolean; last?: boolean; pagePackets?: number } = {}): Promise<void> {
    const pagePackets = options.pagePackets ?? 1;
    let page: PageSpec = { flags: options.first ? 0x02 : 0, granule: -1n, lacing: [], body: [] };
    let packetsOnPage = 0;
    const flush = async (continued: boolean) => {
      await this.emit(page);
      page = { flags: continued ? 0x01 : 0, granule: -1n, lacing: [], body: [] };
      packetsOnPage = 0;
    };
    let index = 0;
    for await (const packet of packets) {
      if (index >= count) throw new Error(`more than the ${count} Ogg packets announced`);
      let offset = 0;
      for (;;) {
        const piece = Math.min(255, packet.length - offset);
        if (page.lacing.length === 255) await flush(true);
        page.lacing.push(piece);
        page.body.push(packet.subarray(offset, offset + piece));
        offset += piece;
        if (piece < 255) break;
      }
      page.granule = granuleAfter(index);
      packetsOnPage++;
      if (packetsOnPage >= pagePackets && index < count - 1) await flush(false);
      index++;
    }
    if (index !== count) throw new Error(`${index} Ogg packets where ${count} were announced`);
    if (options.last) page.flags |= 0x04;
    if (page.lacing.length > 0) await this.emit(page);
  }
}
