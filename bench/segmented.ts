import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { transcodeArgs } from '../src/media/ffmpeg-args.ts';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { defaultPresetIds, findPreset, type Preset } from '../src/media/presets.ts';
import type { ProbeResult } from '../src/media/types.ts';
import { cpuBetween, cpuSnapshot, describeCpu } from './cpu-by-process.ts';
import { apiJson, multipartBody, postStream, signUpAndLogIn, watchCompletions } from './http.ts';
import { diskFile, ensureInputWavOf } from './input.ts';
import { freePort, startNodeChild, timeProcess } from './proc.ts';
import { logObjects, reportParts, settledPartCosts, type PartCosts } from './segmented-parts.ts';
import { serviceEnv } from './service.ts';
import { isRecord, median, round } from './util.ts';

/** The set: the three defaults plus MP3 320k and Opus. */
export const PRESET_IDS = [...defaultPresetIds, 'mp3-320k', 'opus-96k'];

export interface SegmentedRuns {
  mode: 'embedded' | 'scale-out';
  inputMinutes: number;
  presets: string[];
  /** Slots in all (scale-out: workers × slots each). */
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
  /** Where each service run's time went, part by part (from the service's info log). */
  parts: PartCosts[];
  /** Each service run's CPU ms by kind of process (bench/cpu-by-process.ts). */
  serviceCpu?: Record<string, number>[];
}

export interface LongInput {
  minutes: number;
  path: string;
  probe: ProbeResult;
  presets: Preset[];
}

/** BENCH_SEGMENT_MINUTES (60) of the bench's stereo 44.1 kHz WAV, probed. */
export async function longInput(): Promise<LongInput> {
  const minutes = Number(process.env.BENCH_SEGMENT_MINUTES ?? 60);
  if (!(minutes >= 6 && minutes <= 240)) throw new Error('BENCH_SEGMENT_MINUTES must be 6..240 (segments start past 5 minutes)');
  const file = await ensureInputWavOf(minutes * 60);
  const presets = PRESET_IDS.map((id) => findPreset(id) ?? fail(`unknown preset ${id}`));
  const probe = await createFfmpegMedia({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallTimeoutMs: 60_000 }).probe(file);
  return { minutes, path: file, probe, presets };
}

/** One bare ffmpeg process with every output and the peaks: what a job without segments runs. */
export async function bareOnce(input: LongInput, workDir: string): Promise<number> {
  const dir = await mkdtemp(path.join(workDir, 'segmented-bare-'));
  try {
    const plans = input.presets.map((preset) => ({ preset, path: path.join(dir, `${preset.id}.${preset.extension}`) }));
    return (await timeProcess('ffmpeg', transcodeArgs(input.path, input.probe, plans, path.join(dir, 'peaks.u8')), 4 * 3600_000)).wallMs;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Uploads the input with the presets and waits for its completion event; the file is deleted after. */
export async function serviceOnce(port: number, token: string, input: LongInput): Promise<{ id: string; ms: number }> {
  const events = await watchCompletions(port, token);
  try {
    const body = multipartBody({ presets: PRESET_IDS.join(',') }, await diskFile(input.path, 'audio/wav'));
    const posted = await postStream(port, '/api/v1/files', body, { authorization: `Bearer ${token}` }, 30 * 60_000);
    const id = isRecord(posted.body) ? posted.body.id : undefined;
    if (posted.status !== 201 || typeof id !== 'string') throw new Error(`upload failed with ${posted.status}`);
    const completedAt = await events.completedAt(id, 4 * 3600_000);
    await apiJson(port, 'DELETE', `/files/${id}`, { token, expect: 204 });
    return { id, ms: completedAt - posted.respondedAt };
  } finally {
    events.close();
  }
}

/**
 * Rounds of bare ffmpeg and the service side by side, the order alternated each round; after each
 * service run, `costsOf(fileId)` reads where its time went from the service's log.
 */
export async function alternateRounds(
  runs: SegmentedRuns,
  rounds: number,
  bare: () => Promise<number>,
  service: () => Promise<{ id: string; ms: number }>,
  costsOf: (fileId: string) => Promise<PartCosts>,
  log: (line: string) => void,
): Promise<void> {
  const bareStep = async () => {
    const ms = Math.round(await bare());
    runs.bareMs.push(ms);
    return ms;
  };
  const serviceStep = async () => {
    const cpuBefore = cpuSnapshot();
    const { id, ms: raw } = await service();
    const cpu = cpuBetween(cpuBefore, cpuSnapshot());
    const ms = Math.round(raw);
    runs.serviceMs.push(ms);
    (runs.serviceCpu ??= []).push(cpu);
    log(`    CPU in that run, by process: ${describeCpu(cpu)} (${(ms / 1000).toFixed(1)} s × 2 cores = ${((2 * ms) / 1000).toFixed(1)} s)`);
    runs.parts.push(await costsOf(id));
    return ms;
  };
  for (let r = 0; r < rounds; r++) {
    const steps = [['bare ffmpeg, one process', bareStep], [`service (${runs.mode}), segmented`, serviceStep]] as const;
    for (const [label, step] of r % 2 === 0 ? steps : [...steps].reverse()) {
      const before = os.loadavg()[0]?.toFixed(2);
      log(`  round ${r + 1}/${rounds} ${label}: ${((await step()) / 1000).toFixed(1)} s (load ${before} → ${os.loadavg()[0]?.toFixed(2)})`);
    }
  }
  runs.ratio = round(median(runs.serviceMs) / median(runs.bareMs), 3);
}

/**
 * Issue 12's benchmark: one long stereo 44.1 kHz input to five presets, the embedded service
 * (2 slots, segments as jobs) against one bare ffmpeg process with the same outputs, side by side
 * in one run, the order alternated each round. BENCH_SEGMENT_MINUTES sets the input's length (60).
 * The service logs at info into a file, read back for the per-part costs.
 */
export async function segmentedBenchmark(workDir: string, rounds: number, log: (line: string) => void): Promise<SegmentedRuns> {
  const loadBefore = os.loadavg().map((l) => round(l, 2));
  const input = await longInput();
  const slots = 2;
  const port = await freePort();
  const logFile = path.join(workDir, 'segmented-service.log');
  const env = { ...serviceEnv(path.join(workDir, 'segmented-data'), port, slots), SEGMENT_MIN_SECONDS: '300', LOG_LEVEL: 'info' };
  const child = await startNodeChild(`service (WORKER_CONCURRENCY=${slots})`, 'src/main.ts', ['serve'], env, port, { logFile });
  const runs: SegmentedRuns = { mode: 'embedded', inputMinutes: input.minutes, presets: PRESET_IDS, slots, bareMs: [], serviceMs: [], ratio: 0, loadBefore, loadAfter: [], parts: [] };
  try {
    const token = await signUpAndLogIn(port);
    const costsOf = (fileId: string) => settledPartCosts(async () => logObjects(await readFile(logFile, 'utf8')), fileId, input.probe.durationMs / 1000);
    await alternateRounds(runs, rounds, () => bareOnce(input, workDir), () => serviceOnce(port, token, input), costsOf, log);
  } finally {
    await child.stop();
  }
  runs.loadAfter = os.loadavg().map((l) => round(l, 2));
  return runs;
}

export function reportSegmented(runs: SegmentedRuns, log: (line: string) => void, goal = 0.6): SegmentedRuns {
  log('');
  log(`Segmented transcoding (issue 12), ${runs.mode}: ${runs.inputMinutes}-minute stereo 44.1 kHz WAV → ${runs.presets.join(', ')}, ${runs.slots} slots`);
  log(`  bare ffmpeg, one process: median ${(median(runs.bareMs) / 1000).toFixed(1)} s; service: median ${(median(runs.serviceMs) / 1000).toFixed(1)} s`);
  log(`  service ÷ bare = ${runs.ratio} (goal ≤ ${goal} on 2 cores); load ${runs.loadBefore.join(' / ')} before, ${runs.loadAfter.join(' / ')} after`);
  for (const costs of runs.parts) reportParts(costs, log);
  return runs;
}

function fail(message: string): never {
  throw new Error(message);
}
