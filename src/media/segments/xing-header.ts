import { crc16Arc } from './crc.ts';
import { readMp3Header } from './mp3-frames.ts';

/** What the Xing/LAME header says about the audio frames after it, gathered while they stream by. */
export interface Mp3AudioTotals {
  frames: number;
  bytes: number;
  /** Where audio frame `index` starts, counted from the start of the audio (after the Xing frame). */
  frameStart(index: number): number | undefined;
  /** CRC-16/ARC over every audio frame: the LAME tag's music CRC. */
  musicCrc: number;
}

/**
 * Rewrites the Xing/Info and LAME header frame that ffmpeg's MP3 muxer writes, for the audio
 * frames described by `audio`: frame count, byte count, seek table, padding, music length and
 * both CRCs. The layout is the one ffmpeg 5.1 writes (all four Xing fields present); the encoder
 * delay stays as the first segment's encoder wrote it.
 */
export function rewriteXingFrame(xingFrame: Buffer, audio: Mp3AudioTotals, padding: number): Buffer {
  const out = Buffer.from(xingFrame);
  const header = readMp3Header(out, 0);
  if (!header) throw new Error('the first MP3 segment does not start with a frame');
  const sideInfo = header.mpeg1 ? (header.mono ? 17 : 32) : header.mono ? 9 : 17;
  let at = 4 + sideInfo;
  const tag = out.toString('latin1', at, at + 4);
  if ((tag !== 'Xing' && tag !== 'Info') || out.readUInt32BE(at + 4) !== 0x0f) throw new Error('the first MP3 segment has no full Xing header');
  const totalBytes = out.length + audio.bytes;
  out.writeUInt32BE(audio.frames, at + 8);
  out.writeUInt32BE(totalBytes, at + 12);
  // Seek table: for each percent of the duration, where that frame starts, as 1/256 of the bytes.
  for (let i = 0; i < 100; i++) {
    const start = audio.frameStart(Math.floor((i * audio.frames) / 100));
    out[at + 16 + i] = Math.min(255, Math.floor((256 * (start === undefined ? 0 : out.length + start)) / totalBytes));
  }
  at += 8 + 4 + 4 + 100 + 4; // flags, frames, bytes, seek table, quality: the LAME extension follows
  const delayAt = at + 9 + 1 + 1 + 4 + 2 + 2 + 1 + 1;
  const delay = out.readUIntBE(delayAt, 3) >> 12;
  if (padding < 0 || padding >= 1 << 12) throw new Error(`MP3 padding ${padding} does not fit the LAME header`);
  out.writeUIntBE((delay << 12) | padding, delayAt, 3);
  const musicLengthAt = delayAt + 3 + 1 + 1 + 2;
  out.writeUInt32BE(totalBytes, musicLengthAt);
  out.writeUInt16BE(audio.musicCrc, musicLengthAt + 4);
  out.writeUInt16BE(crc16Arc(out.subarray(0, 190)), musicLengthAt + 6);
  return out;
}

/** The padding a LAME header declares (samples the decoder drops at the end). */
export function xingPadding(xingFrame: Buffer): number {
  const header = readMp3Header(xingFrame, 0);
  if (!header) throw new Error('not an MP3 frame');
  const sideInfo = header.mpeg1 ? (header.mono ? 17 : 32) : header.mono ? 9 : 17;
  const delayAt = 4 + sideInfo + 8 + 4 + 4 + 100 + 4 + 9 + 1 + 1 + 4 + 2 + 2 + 1 + 1;
  return xingFrame.readUIntBE(delayAt, 3) & 0xfff;
}
