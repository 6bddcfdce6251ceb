import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { transcodeArgs } from '../src/media/ffmpeg-args.ts';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { defaultPresetIds, findPreset } from '../src/media/presets.ts';
import { apiJson, multipartBody, postStream, signUpAndLogIn, watchCompletions } from './http.ts';
import { diskFile, ensureInputWavOf } from './input.ts';
import { freePort, startNodeChild, timeProcess } from './proc.ts';
import { serviceEnv } from './service.ts';
import { isRecord, median, round } from './util.ts';

/** The set: the three defaults plus MP3 320k and Opus. */
const PRESET_IDS = [...defaultPresetIds, 'mp3-320k', 'opus-96k'];

export interface SegmentedRuns {
  inputMinutes: number;
  presets: string[];
  slots: number;
  /** One bare ffmpeg process writing every output (and the peaks), as a job without segments would. */
  bareMs: number[];
  /** The service with segmenting at its default threshold: upload's 201 to the completion event. */
  serviceMs: number[];
  /** median(service) ÷ median(bare): below 1 is faster than bare ffmpeg. */
  ratio: number;
  /** 1/5/15-minute load averages before and after. */
  loadBefore: number[];
  loadAfter: number[];
}

/**
 * Issue 12's benchmark: one long stereo 44.1 kHz input to five presets, the service (2 slots,
 * segments as jobs) against one bare ffmpeg process with the same outputs, side by side in one
 * run, the order alternated each round. BENCH_SEGMENT_MINUTES sets the input's length (60).
 */
export async function segmentedBenchmark(workDir: string, rounds: number, log: (line: string) => void): Promise<SegmentedRuns> {
  const minutes = Number(process.env.BENCH_SEGMENT_MINUTES ?? 60);
  if (!(minutes >= 6 && minutes <= 240)) throw new Error('BENCH_SEGMENT_MINUTES must be 6..240 (segments start past 5 minutes)');
  const loadBefore = os.loadavg().map((l) => round(l, 2));
  const input = await ensureInputWavOf(minutes * 60);
  const presets = PRESET_IDS.map((id) => findPreset(id) ?? fail(`unknown preset ${id}`));
  const probe = await createFfmpegMedia({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallTimeoutMs: 60_000 }).probe(input);
  const slots = 2;
  const port = await freePort();
  const env = { ...serviceEnv(path.join(workDir, 'segmented-data'), port, slots), SEGMENT_MIN_SECONDS: '300' };
  const child = await startNodeChild(`service (WORKER_CONCURRENCY=${slots})`, 'src/main.ts', ['serve'], env, port);
  const runs: SegmentedRuns = { inputMinutes: minutes, presets: PRESET_IDS, slots, bareMs: [], serviceMs: [], ratio: 0, loadBefore, loadAfter: [] };
  try {
    const token = await signUpAndLogIn(port);
    const bare = async () => {
      const dir = await mkdtemp(path.join(workDir, 'segmented-bare-'));
      try {
        const plans = presets.map((preset) => ({ preset, path: path.join(dir, `${preset.id}.${preset.extension}`) }));
        const t = await timeProcess('ffmpeg', transcodeArgs(input, probe, plans, path.join(dir, 'peaks.u8')), 4 * 3600_000);
        runs.bareMs.push(t.wallMs);
        return t.wallMs;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    };
    const service = async () => {
      const events = await watchCompletions(port, token);
      try {
        const body = multipartBody({ presets: PRESET_IDS.join(',') }, await diskFile(input, 'audio/wav'));
        const posted = await postStream(port, '/api/v1/files', body, { authorization: `Bearer ${token}` }, 30 * 60_000);
        const id = isRecord(posted.body) ? posted.body.id : undefined;
        if (posted.status !== 201 || typeof id !== 'string') throw new Error(`upload failed with ${posted.status}`);
        const completedAt = await events.completedAt(id, 4 * 3600_000);
        const ms = completedAt - posted.respondedAt;
        runs.serviceMs.push(ms);
        await apiJson(port, 'DELETE', `/files/${id}`, { token, expect: 204 });
        return ms;
      } finally {
        events.close();
      }
    };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [['bare ffmpeg, one process', bare], ['service, segmented', service]] as const : [['service, segmented', service], ['bare ffmpeg, one process', bare]] as const;
      for (const [label, step] of order) log(`  round ${r + 1}/${rounds} ${label}: ${((await step()) / 1000).toFixed(1)} s (load ${os.loadavg()[0]?.toFixed(2)})`);
    }
  } finally {
    await child.stop();
  }
  runs.ratio = round(median(runs.serviceMs) / median(runs.bareMs), 3);
  runs.loadAfter = os.loadavg().map((l) => round(l, 2));
  return runs;
}

export function reportSegmented(runs: SegmentedRuns, log: (line: string) => void): SegmentedRuns {
  log('');
  log(`Segmented transcoding (issue 12): ${runs.inputMinutes}-minute stereo 44.1 kHz WAV → ${runs.presets.join(', ')}, ${runs.slots} slots`);
  log(`  bare ffmpeg, one process: median ${(median(runs.bareMs) / 1000).toFixed(1)} s; service: median ${(median(runs.serviceMs) / 1000).toFixed(1)} s`);
  log(`  service ÷ bare = ${runs.ratio} (goal ≤ 0.6 on 2 cores); load ${runs.loadBefore.join(' / ')} before, ${runs.loadAfter.join(' / ')} after`);
  return runs;
}

function fail(message: string): never {
  throw new Error(message);
}
