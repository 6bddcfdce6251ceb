/**
 * Output presets are data. The first three are the AWS Elastic Transcoder system presets the
 * original application used; the rest are what people ask for next.
 */
export interface Preset {
  id: string;
  label: string;
  /** ffmpeg muxer name. */
  muxer: string;
  extension: string;
  mimeType: string;
  codec: string;
  /** Constant bit rate in bits/s, when the codec is driven by bit rate. */
  bitRate?: number;
  /** Codec quality (-q:a), when the codec is driven by quality. */
  quality?: number;
  /**
   * For quality-driven codecs, the most bits/s the codec can spend: bounds the output size
   * before a job starts (bit-rate presets use their bit rate, lossless ones PCM).
   */
  maxBitRate?: number;
  /** A fixed output sample rate; otherwise the input's, clamped into `allowedRates`. */
  sampleRate?: number;
  allowedRates: readonly number[];
  maxChannels: number;
  /** Sample format to convert to (with dither when that lowers the bit depth). */
  sampleFormat?: string;
  /**
   * Lossless presets not named for a fixed format keep the input's bit depth, as 16 or 24 bits:
   * these two sample formats carry it (see outputSampleFormat).
   */
  keepsDepth?: { s16: string; s24: string; /** The encoder for 24 bits, when it is not `codec` (PCM names its depth). */ codec24?: string };
  /** Whether the container can carry tags and cover art over from the input. */
  carriesCover: boolean;
  lossless: boolean;
}

const mp3Rates = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000] as const;
const commonRates = [8000, 11025, 16000, 22050, 32000, 44100, 48000] as const;
/** Every rate an ALAC player is expected to handle, up to 192 kHz. */
const hiResRates = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000, 176400, 192000] as const;

const mp3 = (id: string, label: string, rate: { bitRate?: number; quality?: number; maxBitRate?: number }): Preset => ({
  id,
  label,
  muxer: 'mp3',
  extension: 'mp3',
  mimeType: 'audio/mpeg',
  codec: 'libmp3lame',
  ...rate,
  sampleRate: 44100,
  allowedRates: mp3Rates,
  maxChannels: 2,
  carriesCover: true,
  lossless: false,
});

export const presets: readonly Preset[] = [
  {
    id: 'wav-44k-16',
    label: 'WAV 44.1 kHz 16-bit',
    muxer: 'wav',
    extension: 'wav',
    mimeType: 'audio/wav',
    codec: 'pcm_s16le',
    sampleRate: 44100,
    allowedRates: [44100],
    maxChannels: 2,
    sampleFormat: 's16',
    carriesCover: false,
    lossless: true,
  },
  {
    id: 'flac-cd',
    label: 'FLAC (CD quality)',
    muxer: 'flac',
    extension: 'flac',
    mimeType: 'audio/flac',
    codec: 'flac',
    sampleRate: 44100,
    allowedRates: [44100],
    maxChannels: 2,
    sampleFormat: 's16',
    carriesCover: true,
    lossless: true,
  },
  {
    id: 'aac-256k',
    label: 'AAC 256 kbit/s (M4A)',
    muxer: 'ipod',
    extension: 'm4a',
    mimeType: 'audio/mp4',
    codec: 'aac',
    bitRate: 256_000,
    sampleRate: 44100,
    allowedRates: [44100],
    maxChannels: 2,
    carriesCover: true,
    lossless: false,
  },
  mp3('mp3-128k', 'MP3 128 kbit/s CBR', { bitRate: 128_000 }),
  mp3('mp3-192k', 'MP3 192 kbit/s CBR', { bitRate: 192_000 }),
  mp3('mp3-320k', 'MP3 320 kbit/s CBR', { bitRate: 320_000 }),
  // 320 kbit/s is the largest frame MPEG-1 Layer III has, so V0 can never exceed it.
  mp3('mp3-v0', 'MP3 V0 (VBR, ~245 kbit/s)', { quality: 0, maxBitRate: 320_000 }),
  {
    id: 'opus-96k',
    label: 'Opus 96 kbit/s (Ogg)',
    muxer: 'opus',
    extension: 'opus',
    mimeType: 'audio/ogg; codecs=opus',
    codec: 'libopus',
    bitRate: 96_000,
    sampleRate: 48000, // Opus always runs at 48 kHz
    allowedRates: [48000],
    maxChannels: 2,
    carriesCover: false,
    lossless: false,
  },
  {
    id: 'vorbis-q5',
    label: 'Ogg Vorbis q5 (~160 kbit/s)',
    muxer: 'ogg',
    extension: 'ogg',
    mimeType: 'audio/ogg; codecs=vorbis',
    codec: 'libvorbis',
    quality: 5,
    // q5 aims at ~160 kbit/s (measured ≤ 110 on white noise); q10, the top, is ~500.
    maxBitRate: 500_000,
    allowedRates: commonRates,
    maxChannels: 2,
    carriesCover: false,
    lossless: false,
  },
  {
    id: 'alac',
    label: 'ALAC (Apple Lossless, M4A)',
    muxer: 'ipod',
    extension: 'm4a',
    mimeType: 'audio/mp4',
    codec: 'alac',
    allowedRates: hiResRates,
    maxChannels: 2,
    // ffmpeg's ALAC encoder writes 24-bit samples from s32p.
    keepsDepth: { s16: 's16p', s24: 's32p' },
    carriesCover: true,
    lossless: true,
  },
];

/**
 * Most input channels accepted. Every preset is at most stereo; ffmpeg 5.1 downmixes 1–8
 * channels (any layout, or none: it assumes the default one) but fails on 9 or more without a
 * layout, with only "Failed to inject frame into filter network". We say why at probe time instead.
 */
export const MAX_INPUT_CHANNELS = 8;

/** The original application's three outputs, chosen when an upload names none. */
export const defaultPresetIds: readonly string[] = ['wav-44k-16', 'flac-cd', 'aac-256k'];

const byId = new Map(presets.map((p) => [p.id, p]));

export function findPreset(id: string): Preset | undefined {
  return byId.get(id);
}

/** The preset's own rate, or the input's clamped to the nearest rate the codec accepts. */
export function outputSampleRate(preset: Preset, inputRate: number): number {
  if (preset.sampleRate) return preset.sampleRate;
  const rates = preset.allowedRates;
  const atLeast = rates.find((r) => r >= inputRate);
  return atLeast ?? rates[rates.length - 1] ?? 48000;
}

/** The input's channel count, downmixed to what the preset allows. */
export function outputChannels(preset: Preset, inputChannels: number): number {
  return Math.min(Math.max(inputChannels, 1), preset.maxChannels);
}

/** The encoder for this input: a depth-keeping WAV writes 24-bit PCM with another encoder than 16-bit. */
export function outputCodec(preset: Preset, input: { codec: string; bits: number }): string {
  const codec24 = preset.keepsDepth?.codec24;
  return codec24 && outputSampleFormat(preset, input) === preset.keepsDepth?.s24 ? codec24 : preset.codec;
}

/** Lossless codecs whose decoded samples have a real bit depth; anything else decodes to 16 bits' worth. */
const losslessInputs = /^(pcm_|flac$|alac$|wavpack$|ape$|tta$|tak$|truehd$|mlp$|shorten$|dsd_)/;

/**
 * The sample format a preset writes for an input of `inputBits` (as probed: 0 when unknown).
 * Presets that keep depth write 24 bits for any lossless input deeper than 16 bits (and for DSD
 * and float PCM), 16 otherwise: a lossy input decodes to more bits than it ever carried.
 */
export function outputSampleFormat(preset: Preset, input: { codec: string; bits: number }): string | undefined {
  if (!preset.keepsDepth) return preset.sampleFormat;
  const lossless = losslessInputs.test(input.codec);
  const deep = lossless && (input.bits > 16 || input.codec.startsWith('dsd_') || /^pcm_f/.test(input.codec));
  return deep ? preset.keepsDepth.s24 : preset.keepsDepth.s16;
}

const khz = (rate: number) => `${rate % 1000 === 0 ? rate / 1000 : (rate / 1000).toFixed(1)} kHz`;

/** What the preset does to sample rate and bit depth, in words people read on the presets list. */
export function describeDepthAndRate(preset: Preset): string {
  const top = preset.allowedRates[preset.allowedRates.length - 1] ?? 48000;
  if (preset.keepsDepth) return `keeps the input's bit depth and sample rate, up to 24-bit/${khz(top)}`;
  const depth = preset.sampleFormat?.startsWith('s16') ? ' 16-bit' : '';
  if (preset.sampleRate) return `always ${khz(preset.sampleRate)}${depth}`;
  return `keeps the input's sample rate, up to ${khz(top)}${depth}`;
}
