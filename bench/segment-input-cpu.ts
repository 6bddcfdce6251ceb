/**
 * CPU seconds of one segment's ffmpeg, decoding the input from its start (the whole-file path)
 * against reading only its byte range (decision 0027), for a few segments of the segmented
 * bench's presets. CPU time (user + system, from /usr/bin/time) rather than wall time, because
 * this machine's other sessions make wall times swing by 2× or more.
 *
 *   node --import tsx bench/segment-input-cpu.ts <input.wav> [segment indices, default 1,7]
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { segmentSecondsFor } from '../src/domain/segmented/plan.ts';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { findPreset, outputSampleRate } from '../src/media/presets.ts';
import { planRangeInput } from '../src/media/segment-range-input.ts';
import { segmentEncodeArgs } from '../src/media/segments/encode-args.ts';
import { planSegments, segmentCodec } from '../src/media/segments/index.ts';
import { ffmpegCpu as cpuOf } from './proc.ts';

const [file, which = '1,7'] = process.argv.slice(2);
if (!file) throw new Error('usage: segment-input-cpu.ts <input.wav> [segments]');
const input = await createFfmpegMedia({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallTimeoutMs: 60_000 }).probe(file);
const size = (await stat(file)).size;
const source = { size, read: (r: { start: number; end: number }) => Promise.resolve(createReadStream(file, r)), localPath: () => Promise.resolve(file) };
const dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-seg-cpu-'));
console.log(`input ${file}: ${(input.durationMs / 60000).toFixed(1)} min; load ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
try {
  for (const id of ['aac-256k', 'mp3-320k', 'opus-96k']) {
    const preset = findPreset(id)!;
    const rate = outputSampleRate(preset, input.sampleRate);
    const seconds = input.durationMs / 1000;
    const segments = planSegments({ totalSamples: Math.round(seconds * rate), segmentSamples: Math.round(segmentSecondsFor(300, seconds) * rate), codec: segmentCodec(preset)!, sampleRate: rate });
    for (const index of which.split(',').map(Number)) {
      const segment = segments[index];
      if (!segment) continue;
      const out = path.join(dir, `out.${preset.extension}`);
      const whole = await cpuOf(segmentEncodeArgs(file, input, preset, segment, out));
      const plan = await planRangeInput(source, input, preset, segment);
      if (!('read' in plan)) throw new Error(`no range: ${plan.reason}`);
      const piped = { rawFormat: plan.layout.rawFormat, sampleRate: plan.layout.sampleRate, channels: plan.layout.channels };
      const args = segmentEncodeArgs(piped, input, preset, { ...segment, encodeFrom: plan.read.encodeFrom, encodeTo: plan.read.encodeTo }, out);
      const ranged = await cpuOf(args, createReadStream(file, { start: plan.read.start, end: plan.read.end }));
      const mb = (plan.read.end - plan.read.start + 1) / 1e6;
      console.log(`${id} segment ${index}/${segments.length - 1}: whole file ${whole.cpu.toFixed(2)} s CPU (${whole.wall.toFixed(1)} s wall), range ${ranged.cpu.toFixed(2)} s CPU (${ranged.wall.toFixed(1)} s wall, ${mb.toFixed(0)} of ${(size / 1e6).toFixed(0)} MB); load ${os.loadavg()[0]!.toFixed(2)}`);
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
