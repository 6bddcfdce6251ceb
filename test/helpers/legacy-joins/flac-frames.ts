import { flacCrc16, flacCrc16Byte, flacCrc8 } from '../../../src/media/segments/crc.ts';

/**
 * FLAC frames as the format description lays them out: a header (sync, block size and rate
 * codes, the frame or sample number in FLAC's UTF-8-like coding, optional explicit size and rate,
 * CRC-8), the subframes, and a CRC-16 over the whole frame. We never decode subframes: a frame
 * ends where the next valid header starts and the running CRC-16 comes out at zero.
 */
export interface FlacFrame {
  bytes: Buffer;
  blockSize: number;
  /** Whether the header counts samples (variable block size) rather than frames. */
  variable: boolean;
  /** Header bytes after the coded number and before the CRC-8 (explicit size and rate). */
  headerTail: Buffer;
  /** Bytes after the header, up to and excluding the CRC-16. */
  body: Buffer;
}

interface Header {
  length: number;
  blockSize: number;
  variable: boolean;
  numberEnd: number;
}

function codedLength(first: number): number {
  if (first < 0x80) return 1;
  for (let n = 2; n <= 7; n++) if ((first & (0xff << (8 - n - 1)) & 0xff) === ((0xff << (8 - n)) & 0xff)) return n;
  return 0;
}

function readHeader(data: Buffer, at: number): Header | undefined {
  if (at + 6 > data.length || data[at] !== 0xff || (data[at + 1]! & 0xfe) !== 0xf8) return undefined;
  const sizeCode = data[at + 2]! >> 4;
  const rateCode = data[at + 2]! & 0x0f;
  if (sizeCode === 0 || rateCode === 15 || (data[at + 3]! >> 4) > 10 || (data[at + 3]! & 1) !== 0) return undefined;
  const numberLength = codedLength(data[at + 4]!);
  if (numberLength === 0) return undefined;
  const numberEnd = at + 4 + numberLength;
  let end = numberEnd;
  let blockSize: number;
  if (sizeCode === 1) blockSize = 192;
  else if (sizeCode <= 5) blockSize = 576 << (sizeCode - 2);
  else if (sizeCode === 6) blockSize = data[end++]! + 1;
  else if (sizeCode === 7) {
    blockSize = (data[end]! << 8 | data[end + 1]!) + 1;
    end += 2;
  } else blockSize = 256 << (sizeCode - 8);
  if (rateCode === 12) end += 1;
  else if (rateCode === 13 || rateCode === 14) end += 2;
  if (end >= data.length || flacCrc8(data.subarray(at, end)) !== data[end]) return undefined;
  return { length: end + 1 - at, blockSize, variable: (data[at + 1]! & 1) === 1, numberEnd };
}

/** Splits the frames of a FLAC stream that starts at `from` (just after the metadata blocks). */
export function readFlacFrames(data: Buffer, from: number): FlacFrame[] {
  const frames: FlacFrame[] = [];
  let start = from;
  while (start < data.length) {
    const header = readHeader(data, start);
    if (!header) throw new Error(`no FLAC frame header at byte ${start}`);
    let crc = flacCrc16(data.subarray(start, start + header.length));
    let end = -1;
    for (let p = start + header.length; p < data.length; p++) {
      if (crc === 0 && p >= start + header.length + 2 && data[p] === 0xff && readHeader(data, p)) {
        end = p;
        break;
      }
      crc = flacCrc16Byte(crc, data[p]!);
    }
    if (end < 0) {
      if (crc !== 0) throw new Error(`FLAC frame at byte ${start} has a bad CRC-16`);
      end = data.length;
    }
    frames.push({
      bytes: data.subarray(start, end),
      blockSize: header.blockSize,
      variable: header.variable,
      headerTail: data.subarray(header.numberEnd, start + header.length - 1),
      body: data.subarray(start + header.length, end - 2),
    });
    start = end;
  }
  return frames;
}

/** FLAC's UTF-8-like coding of a frame or sample number (up to 36 bits). */
export function codeNumber(value: number): Buffer {
  if (value < 0x80) return Buffer.from([value]);
  const limits = [0x800, 0x10000, 0x200000, 0x4000000, 0x80000000, 2 ** 36];
  const length = limits.findIndex((limit) => value < limit) + 2;
  if (length < 2) throw new Error(`FLAC frame number ${value} is too large`);
  const out = Buffer.alloc(length);
  let rest = value;
  for (let i = length - 1; i > 0; i--) {
    out[i] = 0x80 | (rest % 64);
    rest = Math.floor(rest / 64);
  }
  out[0] = ((0xff << (8 - length)) & 0xff) | rest;
  return out;
}

/** The frame with a new frame (or sample) number, its CRC-8 and CRC-16 computed again. */
export function renumberFrame(frame: FlacFrame, number: number): Buffer {
  const head = Buffer.concat([frame.bytes.subarray(0, 4), codeNumber(number), frame.headerTail]);
  const withCrc8 = Buffer.concat([head, Buffer.from([flacCrc8(head)]), frame.body]);
  const crc16 = flacCrc16(withCrc8);
  return Buffer.concat([withCrc8, Buffer.from([crc16 >> 8, crc16 & 0xff])]);
}
