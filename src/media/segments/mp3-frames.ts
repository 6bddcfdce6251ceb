/**
 * MPEG audio Layer III frames, walked by their headers (frame length from bit rate, sample rate
 * and the padding bit). We never look inside a frame: the joins only choose which frames to keep.
 */
export interface Mp3Frame {
  at: number;
  length: number;
}

const mpeg1Rates = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const mpeg2Rates = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const sampleRates: Record<number, readonly number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

export interface Mp3Header {
  length: number;
  samplesPerFrame: number;
  mpeg1: boolean;
  mono: boolean;
}

export function readMp3Header(data: Buffer, at: number): Mp3Header | undefined {
  if (at + 4 > data.length || data[at] !== 0xff || (data[at + 1]! & 0xe0) !== 0xe0) return undefined;
  const version = (data[at + 1]! >> 3) & 3;
  const layer = (data[at + 1]! >> 1) & 3;
  const rateIndex = data[at + 2]! >> 4;
  const srIndex = (data[at + 2]! >> 2) & 3;
  const padding = (data[at + 2]! >> 1) & 1;
  const rates = sampleRates[version];
  if (layer !== 1 || !rates || srIndex === 3 || rateIndex === 0 || rateIndex === 15) return undefined;
  const mpeg1 = version === 3;
  const bitRate = (mpeg1 ? mpeg1Rates : mpeg2Rates)[rateIndex]! * 1000;
  const sampleRate = rates[srIndex]!;
  const length = Math.floor(((mpeg1 ? 144 : 72) * bitRate) / sampleRate) + padding;
  return { length, samplesPerFrame: mpeg1 ? 1152 : 576, mpeg1, mono: (data[at + 3]! >> 6) === 3 };
}

/** Where the audio starts: after an ID3v2 tag, if there is one. */
export function id3v2Length(data: Buffer): number {
  if (data.toString('latin1', 0, 3) !== 'ID3') return 0;
  const size = ((data[6]! & 0x7f) << 21) | ((data[7]! & 0x7f) << 14) | ((data[8]! & 0x7f) << 7) | (data[9]! & 0x7f);
  return 10 + size + (data[5]! & 0x10 ? 10 : 0);
}

/** Every frame from `from` on; stops at an ID3v1 tag, fails on anything else that is not a frame. */
export function readMp3Frames(data: Buffer, from: number): Mp3Frame[] {
  const frames: Mp3Frame[] = [];
  let at = from;
  while (at < data.length) {
    if (data.toString('latin1', at, at + 3) === 'TAG' && data.length - at === 128) break;
    const header = readMp3Header(data, at);
    if (!header || at + header.length > data.length) throw new Error(`no whole MP3 frame at byte ${at}`);
    frames.push({ at, length: header.length });
    at += header.length;
  }
  return frames;
}
