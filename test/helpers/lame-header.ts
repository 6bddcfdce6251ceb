/**
 * Reads the Xing/Info and LAME headers of an MP3 (our own reading of the published layout, not
 * ffmpeg's): the frame count and the encoder delay and padding that let a gapless decoder trim
 * the output to the exact number of samples encoded.
 */
export interface LameHeader {
  tag: 'Xing' | 'Info';
  frames: number;
  samplesPerFrame: number;
  delay: number;
  padding: number;
  /** frames × samples per frame − delay − padding: what a gapless decoder plays. */
  gaplessSamples: number;
}

export function readLameHeader(mp3: Buffer): LameHeader | undefined {
  let pos = 0;
  if (mp3.subarray(0, 3).toString('latin1') === 'ID3') {
    const size = ((mp3[6]! & 0x7f) << 21) | ((mp3[7]! & 0x7f) << 14) | ((mp3[8]! & 0x7f) << 7) | (mp3[9]! & 0x7f);
    pos = 10 + size;
  }
  while (pos + 4 < mp3.length && !(mp3[pos] === 0xff && (mp3[pos + 1]! & 0xe0) === 0xe0)) pos++;
  const versionBits = (mp3[pos + 1]! >> 3) & 0x03; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
  const mono = ((mp3[pos + 3]! >> 6) & 0x03) === 3;
  const mpeg1 = versionBits === 3;
  const sideInfo = mpeg1 ? (mono ? 17 : 32) : mono ? 9 : 17;
  let at = pos + 4 + sideInfo;
  const tag = mp3.subarray(at, at + 4).toString('latin1');
  if (tag !== 'Xing' && tag !== 'Info') return undefined;
  const flags = mp3.readUInt32BE(at + 4);
  at += 8;
  let frames = 0;
  if (flags & 1) {
    frames = mp3.readUInt32BE(at);
    at += 4;
  }
  if (flags & 2) at += 4;
  if (flags & 4) at += 100;
  if (flags & 8) at += 4;
  // LAME extension: 9-byte version, then revision, lowpass, peak (4), two gains (2+2), flags, bitrate, delay/padding (3).
  const delayAt = at + 9 + 1 + 1 + 4 + 2 + 2 + 1 + 1;
  const packed = (mp3[delayAt]! << 16) | (mp3[delayAt + 1]! << 8) | mp3[delayAt + 2]!;
  const delay = packed >> 12;
  const padding = packed & 0xfff;
  const samplesPerFrame = mpeg1 ? 1152 : 576;
  return { tag, frames, samplesPerFrame, delay, padding, gaplessSamples: frames * samplesPerFrame - delay - padding };
}
