import { oggCrc32 } from '../../../src/media/segments/crc.ts';

/**
 * One logical Ogg stream (RFC 3533) as packets, and back. Reading joins lacing segments across
 * pages; writing packs packets into pages of at most `pagePackets` packets, each page stamped
 * with the granule position its caller gives for the last packet that ends on it.
 */
export interface OggStream {
  serial: number;
  packets: Buffer[];
  /** The granule position of the last page that has one: the stream's end. */
  lastGranule: bigint;
}

export function readOggStream(data: Buffer): OggStream {
  const packets: Buffer[] = [];
  let pending: Buffer[] = [];
  let serial: number | undefined;
  let lastGranule = -1n;
  for (let at = 0; at < data.length; ) {
    if (data.toString('latin1', at, at + 4) !== 'OggS' || data[at + 4] !== 0) throw new Error(`no Ogg page at byte ${at}`);
    const granule = data.readBigInt64LE(at + 6);
    const pageSerial = data.readUInt32LE(at + 14);
    serial ??= pageSerial;
    if (pageSerial !== serial) throw new Error('Ogg segment has more than one logical stream');
    const count = data[at + 26]!;
    const lacing = data.subarray(at + 27, at + 27 + count);
    let body = at + 27 + count;
    for (const value of lacing) {
      pending.push(data.subarray(body, body + value));
      body += value;
      if (value < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    if (granule >= 0n) lastGranule = granule;
    at = body;
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
  private readonly pages: Buffer[] = [];
  private sequence = 0;

  constructor(private readonly serial: number) {}

  private emit(page: PageSpec): void {
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
    this.pages.push(bytes);
  }

  /**
   * Writes `packets` on fresh pages. `granuleAfter(i)` is the granule position once packet i is
   * complete; a page where no packet ends carries −1. `first`/`last` set the BOS/EOS flags.
   */
  writePackets(packets: readonly Buffer[], granuleAfter: (index: number) => bigint, options: { first?: boolean; last?: boolean; pagePackets?: number } = {}): void {
    const pagePackets = options.pagePackets ?? 1;
    let page: PageSpec = { flags: options.first ? 0x02 : 0, granule: -1n, lacing: [], body: [] };
    let packetsOnPage = 0;
    const flush = (continued: boolean) => {
      this.emit(page);
      page = { flags: continued ? 0x01 : 0, granule: -1n, lacing: [], body: [] };
      packetsOnPage = 0;
    };
    packets.forEach((packet, index) => {
      let offset = 0;
      for (;;) {
        const piece = Math.min(255, packet.length - offset);
        if (page.lacing.length === 255) flush(true);
        page.lacing.push(piece);
        page.body.push(packet.subarray(offset, offset + piece));
        offset += piece;
        if (piece < 255) break;
      }
      page.granule = granuleAfter(index);
      packetsOnPage++;
      if (packetsOnPage >= pagePackets && index < packets.length - 1) flush(false);
    });
    if (options.last) page.flags |= 0x04;
    if (page.lacing.length > 0) this.emit(page);
  }

  bytes(): Buffer {
    return Buffer.concat(this.pages);
  }
}
