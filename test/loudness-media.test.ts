import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { parseMeterSummary, planLoudness } from '../src/media/loudness.ts';
import { defaultPresetIds, findPreset, type Preset } from '../src/media/presets.ts';
import type { MediaLimits, OutputPlan } from '../src/media/types.ts';
import { ffprobe } from './helpers/audio.ts';
import { checkOutput, loudnessFixtures, loudnessPresets, meterFile } from './helpers/loudness.ts';

const media = createFfmpegMedia({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallTimeoutMs: 60_000 });
const limits: MediaLimits = { maxInputSeconds: 3600, maxOutputBytes: 1024 ** 3 };
let dir = '';
before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-loudness-'))));
after(() => rm(dir, { recursive: true, force: true }));

const presetsOf = (ids: readonly string[]): Preset[] => ids.map((id) => findPreset(id) ?? assert.fail(id));

/** Measures, then applies: the two passes of a job, straight through the media layer. */
async function normalize(input: string, preset: keyof typeof loudnessPresets, ids: readonly string[]) {
  const target = { ...loudnessPresets[preset], rangeLu: 11 };
  const probe = await media.probe(input);
  const chosen = presetsOf(ids);
  const signal = new AbortController().signal;
  const analysis = await media.analyzeLoudness({ inputPath: input, input: probe, target, lossy: chosen.some((p) => !p.lossless), signal, limits, onProgress: () => undefined });
  const outputs: OutputPlan[] = chosen.map((p) => ({ preset: p, path: path.join(dir, `${path.basename(input)}-${preset}-${p.id}.${p.extension}`) }));
  const result = await media.transcode({ inputPath: input, input: probe, outputs, peaksPath: path.join(dir, 'peaks.u8'), signal, limits, onProgress: () => undefined, loudness: analysis.plan });
  return { analysis, result, outputs, target };
}

describe('loudness: the meter summary and the plan', () => {
  it('reads ebur128 summaries, silence included', () => {
    const summary = '[Parsed_ebur128_0 @ 0x1] Summary:\n\n  Integrated loudness:\n    I:         -23.1 LUFS\n    Threshold: -33.1 LUFS\n\n  Loudness range:\n    LRA:         4.2 LU\n\n  True peak:\n    Peak:      -13.6 dBFS\n';
    assert.deepEqual(parseMeterSummary(`noise\n${summary}`), { integratedLufs: -23.1, truePeakDbtp: -13.6, rangeLu: 4.2 });
    const silent = summary.replace('-23.1 LUFS', '-70.0 LUFS').replace('-13.6 dBFS', '-inf dBFS');
    assert.deepEqual(parseMeterSummary(silent), { integratedLufs: null, truePeakDbtp: null, rangeLu: 4.2 });
    assert.equal(parseMeterSummary('no summary here'), undefined);
  });

  it('chooses plain gain while the peaks stay under the ceiling, the limiter otherwise, and keeps lossy headroom', () => {
    const target = { integratedLufs: -16, truePeakDbtp: -1, rangeLu: 11 };
    const quiet = { integratedLufs: -26, truePeakDbtp: -14, rangeLu: 5 };
    assert.equal(planLoudness(quiet, target, { lossy: false, sampleRate: 44100 }).method, 'linear');
    assert.equal(planLoudness(quiet, target, { lossy: false, sampleRate: 44100 }).gainDb, 10);
    // −14 + 10 = −4 dBTP: fine; −11.5 + 10 = −1.5: fine for PCM, too close for AAC.
    const peaky = { ...quiet, truePeakDbtp: -11.5 };
    assert.equal(planLoudness(peaky, target, { lossy: false, sampleRate: 44100 }).method, 'linear');
    assert.equal(planLoudness(peaky, target, { lossy: true, sampleRate: 44100 }).method, 'limiter');
    assert.deepEqual(planLoudness({ integratedLufs: null, truePeakDbtp: null, rangeLu: 0 }, target, { lossy: true, sampleRate: 48000 }).gainDb, 0);
  });
});

describe('loudness: normalized outputs measure on target (independent meter)', () => {
  const signals = [
    { name: 'quiet speech-like signal', file: loudnessFixtures.quietSpeech },
    { name: 'loud peaky signal', file: loudnessFixtures.loudPeaky, method: 'limiter' },
    { name: 'steady 48 kHz tone', file: loudnessFixtures.steadyTone48k, method: 'linear' },
  ] as const;
  for (const signal of signals) {
    for (const preset of ['podcast', 'streaming', 'broadcast'] as const) {
      it(`${signal.name}, ${preset}: every default output within 0.5 LU and under the true-peak target`, async () => {
        const { analysis, result, outputs, target } = await normalize(await signal.file(), preset, defaultPresetIds);
        if ('method' in signal && !(signal.name.startsWith('loud') && preset === 'broadcast')) assert.equal(analysis.plan.method, signal.method);
        // A limiter's result is measured in the same run; plain gain's needs no meter.
        assert.equal(result.loudnessAfter !== undefined, analysis.plan.method === 'limiter');
        if (result.loudnessAfter) assert.ok(Math.abs((result.loudnessAfter.integratedLufs ?? NaN) - target.integratedLufs) <= 0.5);
        for (const o of outputs) {
          const m = await meterFile(o.path);
          const problem = checkOutput(m, target, `${o.preset.id} (${m.meter}, ${analysis.plan.method})`);
          assert.equal(problem, undefined, problem);
        }
      });
    }
  }

  it('the limiter is used when gain alone would clip, and the peaky signal is limited for every loud target', async () => {
    for (const preset of ['podcast', 'streaming'] as const) {
      const { analysis } = await normalize(await loudnessFixtures.loudPeaky(), preset, ['flac-cd']);
      assert.equal(analysis.plan.method, 'limiter');
      assert.ok((analysis.before.truePeakDbtp ?? -99) + (analysis.plan.gainDb) > -1, 'plain gain would have pushed the peaks over');
    }
  });

  it('keeps a 48 kHz input at 48 kHz where the preset keeps the rate (ALAC, Vorbis), on target', async () => {
    const { outputs, target } = await normalize(await loudnessFixtures.steadyTone48k(), 'streaming', ['alac', 'vorbis-q5', 'flac-cd']);
    const rates = await Promise.all(outputs.map(async (o) => (await ffprobe(o.path)).streams[0]?.sample_rate));
    assert.deepEqual(rates, ['48000', '48000', '44100']);
    for (const o of outputs) {
      const m = await meterFile(o.path);
      assert.equal(checkOutput(m, target, o.preset.id), undefined);
    }
  });
});
