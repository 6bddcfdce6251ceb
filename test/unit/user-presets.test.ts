import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../src/errors.ts';
import { buildPreset, validatePresetSpec } from '../../src/domain/user-presets.ts';

/** The field a refused spec is blamed on. */
function refusedField(body: Record<string, unknown>): unknown {
  try {
    validatePresetSpec(body);
  } catch (err) {
    assert.ok(err instanceof AppError);
    assert.equal(err.status, 422);
    return err.extra.field;
  }
  return undefined;
}

describe('user preset validation', () => {
  const refused: [string, Record<string, unknown>, string][] = [
    ['Opus at 44.1 kHz', { codec: 'opus', sampleRate: 44100 }, 'sampleRate'],
    ['MP3 at 500 kbit/s', { codec: 'mp3', bitRate: 500_000 }, 'bitRate'],
    ['MP3 at a rate no MPEG table has', { codec: 'mp3', bitRate: 150_000 }, 'bitRate'],
    ['MP3 320 kbit/s at 22.05 kHz', { codec: 'mp3', sampleRate: 22050, bitRate: 320_000 }, 'bitRate'],
    ['MP3 at 96 kHz', { codec: 'mp3', sampleRate: 96000 }, 'sampleRate'],
    ['24-bit AAC', { codec: 'aac', bitDepth: 24 }, 'bitDepth'],
    ['AAC at 20 kbit/s', { codec: 'aac', bitRate: 20_000 }, 'bitRate'],
    ['AAC with a quality', { codec: 'aac', quality: 2 }, 'quality'],
    ['an unknown codec', { codec: 'wma' }, 'codec'],
    ['no codec', {}, 'codec'],
    ['three channels', { codec: 'flac', channels: 3 }, 'channels'],
    ['32-bit FLAC', { codec: 'flac', bitDepth: 32 }, 'bitDepth'],
    ['FLAC at 384 kHz', { codec: 'flac', sampleRate: 384000 }, 'sampleRate'],
    ['FLAC with a bit rate', { codec: 'flac', bitRate: 128_000 }, 'bitRate'],
    ['Vorbis q11', { codec: 'vorbis', quality: 11 }, 'quality'],
    ['Vorbis q-2', { codec: 'vorbis', quality: -2 }, 'quality'],
    ['MP3 with both bit rate and quality', { codec: 'mp3', bitRate: 128_000, quality: 2 }, 'quality'],
    ['Opus at 600 kbit/s', { codec: 'opus', bitRate: 600_000 }, 'bitRate'],
    ['a string sample rate', { codec: 'wav', sampleRate: '44100' }, 'sampleRate'],
  ];
  for (const [what, body, field] of refused) {
    it(`refuses ${what}, naming ${field}`, () => assert.equal(refusedField({ label: 'x', ...body }), field));
  }
  it('refuses an empty or over-long label', () => {
    assert.equal(refusedField({ label: ' ', codec: 'flac' }), 'label');
    assert.equal(refusedField({ label: 'x'.repeat(81), codec: 'flac' }), 'label');
  });

  const accepted: Record<string, unknown>[] = [
    { codec: 'opus', sampleRate: 48000, bitRate: 64_000, channels: 1 },
    { codec: 'mp3', sampleRate: 22050, bitRate: 160_000 },
    { codec: 'mp3', quality: 2 },
    { codec: 'aac', bitRate: 128_000, sampleRate: 96000 },
    { codec: 'vorbis', quality: -1 },
    { codec: 'flac', sampleRate: 192000, bitDepth: 24 },
    { codec: 'wav', bitDepth: 16, channels: 2 },
    { codec: 'alac' },
  ];
  for (const body of accepted) {
    it(`accepts ${JSON.stringify(body)}`, () => assert.equal(refusedField({ label: 'x', ...body }), undefined));
  }
});

describe('building a preset', () => {
  it('fixes rate, channels and depth as asked', () => {
    const p = buildPreset('u-1', validatePresetSpec({ label: 'Mono FLAC', codec: 'flac', sampleRate: 48000, channels: 1, bitDepth: 24 }));
    assert.deepEqual([p.muxer, p.extension, p.codec, p.sampleRate, p.maxChannels, p.sampleFormat], ['flac', 'flac', 'flac', 48000, 1, 's32']);
  });
  it('keeps the input depth when none is asked, with 24-bit PCM for a deep WAV', () => {
    const p = buildPreset('u-2', validatePresetSpec({ label: 'WAV', codec: 'wav' }));
    assert.equal(p.sampleFormat, undefined);
    assert.deepEqual(p.keepsDepth, { s16: 's16', s24: 's32', codec24: 'pcm_s24le' });
  });
  it('defaults a codec driven by bit rate or quality', () => {
    assert.equal(buildPreset('u-3', validatePresetSpec({ label: 'x', codec: 'aac' })).bitRate, 256_000);
    const vorbis = buildPreset('u-4', validatePresetSpec({ label: 'x', codec: 'vorbis' }));
    assert.deepEqual([vorbis.quality, vorbis.bitRate], [5, undefined]);
  });
  it('keeps a 320 kbit/s MP3 from "as input" rates that cannot carry it', () => {
    const p = buildPreset('u-5', validatePresetSpec({ label: 'x', codec: 'mp3', bitRate: 320_000 }));
    assert.deepEqual(p.allowedRates, [32000, 44100, 48000]);
  });
});
