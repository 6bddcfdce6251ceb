/**
 * ADTS headers for raw AAC-LC packets (ISO 14496-3, 1.A.2): a 7-byte header without CRC in
 * front of each packet makes a stream ffmpeg can read back packet for packet.
 */
const sampleRateIndex = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

export function adtsHeader(payloadLength: number, sampleRate: number, channels: number): Buffer {
  const rateIndex = sampleRateIndex.indexOf(sampleRate);
  if (rateIndex < 0) throw new Error(`ADTS has no index for ${sampleRate} Hz`);
  if (channels < 1 || channels > 7) throw new Error(`ADTS cannot say ${channels} channels`);
  const length = payloadLength + 7;
  if (length >= 1 << 13) throw new Error('AAC packet too large for ADTS');
  const profile = 1; // AAC LC: audio object type 2, written as type − 1
  return Buffer.from([
    0xff,
    0xf1, // MPEG-4, layer 0, no CRC
    (profile << 6) | (rateIndex << 2) | (channels >> 2),
    ((channels & 3) << 6) | (length >> 11),
    (length >> 3) & 0xff,
    ((length & 7) << 5) | 0x1f, // buffer fullness 0x7ff: variable rate
    0xfc, // ... and one raw data block
  ]);
}
