/**
 * Presets of one's own: what a user may ask for, checked against what each codec can do before
 * anything is stored, and turned into the same `Preset` the built-in ones are.
 */
import { AppError } from '../errors.ts';
import type { Preset } from '../media/presets.ts';

export const userCodecs = ['wav', 'flac', 'alac', 'aac', 'mp3', 'opus', 'vorbis'] as const;
export type UserCodec = (typeof userCodecs)[number];

/** What the user chose; absent fields mean "as the input" (rate, channels, depth) or the codec's default. */
export interface PresetSpec {
  label: string;
  codec: UserCodec;
  bitRate?: number;
  quality?: number;
  sampleRate?: number;
  channels?: 1 | 2;
  bitDepth?: 16 | 24;
}

/** Most presets one user may keep: enough for every format, not a way to fill the database. */
export const MAX_USER_PRESETS = 50;
const LABEL_MAX = 80;

/** Own preset ids cannot collide with built-in ones (none start with "u-") and are safe in blob keys. */
export const userPresetId = (uuid: string) => `u-${uuid}`;
export const isUserPresetId = (id: string) => /^u-[0-9a-f-]{36}$/.test(id);

const lowRates = [8000, 11025, 12000, 16000, 22050, 24000] as const;
const mp3Rates = [...lowRates, 32000, 44100, 48000] as const;
const hiResRates = [...mp3Rates, 64000, 88200, 96000, 176400, 192000] as const;
/** ffmpeg's AAC encoder takes the MPEG-4 rates up to 96 kHz. */
const aacRates = [...mp3Rates, 64000, 88200, 96000] as const;
const vorbisRates = [8000, 11025, 16000, 22050, 32000, 44100, 48000] as const;
/** MPEG-1 Layer III (32–48 kHz) bit rates; MPEG-2 (up to 24 kHz) stops at 160 kbit/s. */
const mp3BitRates = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320].map((k) => k * 1000);
const MP3_LOW_RATE_TOP = 160_000;

interface CodecRules {
  muxer: string;
  extension: string;
  mimeType: string;
  encoder: string;
  lossless: boolean;
  carriesCover: boolean;
  rates: readonly number[];
  /** Inclusive bit-rate range, or absent when the codec takes no bit rate. */
  bitRate?: { min: number; max: number; default?: number };
  quality?: { min: number; max: number; default?: number };
}

const rules: Record<UserCodec, CodecRules> = {
  wav: { muxer: 'wav', extension: 'wav', mimeType: 'audio/wav', encoder: 'pcm_s16le', lossless: true, carriesCover: false, rates: hiResRates },
  flac: { muxer: 'flac', extension: 'flac', mimeType: 'audio/flac', encoder: 'flac', lossless: true, carriesCover: true, rates: hiResRates },
  alac: { muxer: 'ipod', extension: 'm4a', mimeType: 'audio/mp4', encoder: 'alac', lossless: true, carriesCover: true, rates: hiResRates },
  aac: { muxer: 'ipod', extension: 'm4a', mimeType: 'audio/mp4', encoder: 'aac', lossless: false, carriesCover: true, rates: aacRates, bitRate: { min: 32_000, max: 320_000, default: 256_000 } },
  mp3: { muxer: 'mp3', extension: 'mp3', mimeType: 'audio/mpeg', encoder: 'libmp3lame', lossless: false, carriesCover: true, rates: mp3Rates, bitRate: { min: 32_000, max: 320_000, default: 192_000 }, quality: { min: 0, max: 9 } },
  opus: { muxer: 'opus', extension: 'opus', mimeType: 'audio/ogg; codecs=opus', encoder: 'libopus', lossless: false, carriesCover: false, rates: [48000], bitRate: { min: 6_000, max: 510_000, default: 96_000 } },
  vorbis: { muxer: 'ogg', extension: 'ogg', mimeType: 'audio/ogg; codecs=vorbis', encoder: 'libvorbis', lossless: false, carriesCover: false, rates: vorbisRates, quality: { min: -1, max: 10, default: 5 } },
};

const invalid = (field: string, detail: string) => new AppError('invalid_preset', 422, detail, { field });
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks an untrusted body field by field; throws a 422 naming the first field that does not fit. */
export function validatePresetSpec(raw: Record<string, unknown>): PresetSpec {
  const label = typeof raw.label === 'string' ? raw.label.trim() : '';
  if (!label || label.length > LABEL_MAX || /[\p{Cc}]/u.test(label)) throw invalid('label', `"label" must be 1–${LABEL_MAX} printable characters.`);
  if (typeof raw.codec !== 'string' || !(userCodecs as readonly string[]).includes(raw.codec)) {
    throw invalid('codec', `"codec" must be one of ${userCodecs.join(', ')}.`);
  }
  const codec = raw.codec as UserCodec;
  const rule = rules[codec];
  const spec: PresetSpec = { label, codec };

  const given = (name: string) => raw[name] !== undefined && raw[name] !== null;
  if (given('bitRate') && given('quality')) throw invalid('quality', `"bitRate" and "quality" cannot both be set: ${codec} is driven by one of them.`);

  if (given('sampleRate')) {
    const rate = raw.sampleRate;
    if (!isNumber(rate) || !rule.rates.includes(rate)) throw invalid('sampleRate', `"sampleRate" for ${codec} must be one of ${rule.rates.join(', ')}.`);
    spec.sampleRate = rate;
  }
  if (given('bitRate')) {
    const rate = raw.bitRate;
    if (!rule.bitRate) throw invalid('bitRate', `${codec} takes no "bitRate".`);
    if (!isNumber(rate) || !Number.isInteger(rate) || rate < rule.bitRate.min || rate > rule.bitRate.max) {
      throw invalid('bitRate', `"bitRate" for ${codec} must be a whole number from ${rule.bitRate.min} to ${rule.bitRate.max} bit/s.`);
    }
    if (codec === 'mp3') checkMp3BitRate(rate, spec.sampleRate);
    spec.bitRate = rate;
  }
  if (given('quality')) {
    const q = raw.quality;
    if (!rule.quality) throw invalid('quality', `${codec} takes no "quality".`);
    if (!isNumber(q) || q < rule.quality.min || q > rule.quality.max || (codec === 'mp3' && !Number.isInteger(q))) {
      throw invalid('quality', `"quality" for ${codec} must be from ${rule.quality.min} to ${rule.quality.max}.`);
    }
    spec.quality = q;
  }
  if (given('channels')) {
    if (raw.channels !== 1 && raw.channels !== 2) throw invalid('channels', '"channels" must be 1 or 2 (or absent: as the input, up to 2).');
    spec.channels = raw.channels;
  }
  if (given('bitDepth')) {
    if (!rule.lossless) throw invalid('bitDepth', `"bitDepth" applies only to lossless codecs (wav, flac, alac), not ${codec}.`);
    if (raw.bitDepth !== 16 && raw.bitDepth !== 24) throw invalid('bitDepth', '"bitDepth" must be 16 or 24 (or absent: as the input, up to 24).');
    spec.bitDepth = raw.bitDepth;
  }
  return spec;
}

function checkMp3BitRate(rate: number, sampleRate: number | undefined) {
  if (!mp3BitRates.includes(rate)) throw invalid('bitRate', `"bitRate" for mp3 must be one of ${mp3BitRates.join(', ')}.`);
  if (sampleRate !== undefined && sampleRate <= 24000 && rate > MP3_LOW_RATE_TOP) {
    throw invalid('bitRate', `"bitRate" for mp3 at ${sampleRate} Hz can be at most ${MP3_LOW_RATE_TOP} bit/s (MPEG-2 Layer III).`);
  }
}

/** Sample formats per depth: what each lossless encoder takes for 16 and 24 bits. */
const depthFormats: Partial<Record<UserCodec, { s16: string; s24: string }>> = {
  wav: { s16: 's16', s24: 's32' },
  flac: { s16: 's16', s24: 's32' },
  alac: { s16: 's16p', s24: 's32p' },
};

/** The `Preset` a valid spec describes, under its id: what the transcode and the downloads use. */
export function buildPreset(id: string, spec: PresetSpec): Preset {
  const rule = rules[spec.codec];
  const bitRate = spec.bitRate ?? (spec.quality === undefined ? rule.bitRate?.default : undefined);
  const quality = spec.quality ?? (bitRate === undefined ? rule.quality?.default : undefined);
  // A high MP3 bit rate does not exist below 32 kHz: keep "as input" rates to those that carry it.
  const rates = spec.codec === 'mp3' && bitRate !== undefined && bitRate > MP3_LOW_RATE_TOP ? rule.rates.filter((r) => r >= 32000) : rule.rates;
  const formats = depthFormats[spec.codec];
  const preset: Preset = {
    id,
    label: spec.label,
    muxer: rule.muxer,
    extension: rule.extension,
    mimeType: rule.mimeType,
    codec: spec.codec === 'wav' && spec.bitDepth === 24 ? 'pcm_s24le' : rule.encoder,
    allowedRates: spec.sampleRate ? [spec.sampleRate] : rates,
    maxChannels: spec.channels ?? 2,
    carriesCover: rule.carriesCover,
    lossless: rule.lossless,
  };
  if (bitRate !== undefined) preset.bitRate = bitRate;
  if (quality !== undefined) {
    preset.quality = quality;
    // The most a quality setting can spend, to bound the output before a job starts.
    preset.maxBitRate = spec.codec === 'mp3' ? 320_000 : 500_000;
  }
  if (spec.sampleRate) preset.sampleRate = spec.sampleRate;
  if (formats && spec.bitDepth) preset.sampleFormat = spec.bitDepth === 24 ? formats.s24 : formats.s16;
  else if (formats) preset.keepsDepth = spec.codec === 'wav' ? { ...formats, codec24: 'pcm_s24le' } : formats;
  return preset;
}
