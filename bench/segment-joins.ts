import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { findPreset } from '../src/media/presets.ts';
import type { JoinCost, JoinJob } from '../test/helpers/join-in-child.ts';
import { encodeSegmentOutputs, type SegmentOutputs } from '../test/helpers/segment-outputs.ts';
import { cacheDir, ensureInputWavOf } from './input.ts';
import { median, repoRoot, round } from './util.ts';

const run = promisify(execFile);
/** One preset per joiner (WAV streamed already and is not measured). */
const PRESET_IDS = ['flac-cd', 'mp3-320k', 'opus-96k', 'aac-256k'];
/** The service's segment length for an hour: at most 8 segments per preset (decision 0020). */
const SEGMENT_SECONDS = 450;

export interface JoinerRuns {
  presetId: string;
  segments: number;
  old: JoinCost[];
  new: JoinCost[];
}

export interface SegmentJoinRuns {
  inputMinutes: number;
  joiners: JoinerRuns[];
  loadBefore: number[];
  loadAfter: number[];
}

/** Segment outputs of the cached input, encoded once and kept in the bench cache (they take minutes). */
async function cachedSegments(input: string, minutes: number, presetId: string, log: (line: string) => void): Promise<SegmentOutputs> {
  const dir = path.join(cacheDir, `join-segments-${minutes}m`, presetId);
  const planFile = path.join(dir, 'plan.json');
  const cached = await readFile(planFile, 'utf8').then((t) => JSON.parse(t) as SegmentOutputs, () => undefined);
  if (cached) return cached;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  log(`  encoding ${presetId} segments of the ${minutes}-minute input into the bench cache (once)…`);
  const probe = await createFfmpegMedia({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallTimeoutMs: 60_000 }).probe(input);
  const outputs = await encodeSegmentOutputs(input, probe, findPreset(presetId)!, dir, SEGMENT_SECONDS);
  await writeFile(planFile, JSON.stringify(outputs));
  return outputs;
}

async function joinInChild(which: 'new' | 'legacy', job: JoinJob, workDir: string): Promise<JoinCost> {
  const jobPath = path.join(workDir, `join-${which}-${job.presetId}.json`);
  await writeFile(jobPath, JSON.stringify(job));
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test', 'helpers', 'join-in-child.ts'), which, jobPath], { cwd: repoRoot });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as JoinCost;
  } finally {
    await rm(job.outPath, { force: true });
    await rm(jobPath, { force: true });
  }
}

/**
 * The segment joins before (whole segments in memory) and after (streamed), on the same segment
 * outputs of a long input, each join in a process of its own: wall time, peak RSS above the
 * process's baseline, the longest event-loop delay. Old and new alternate, order rotated each
 * round. BENCH_JOIN_MINUTES sets the input's length (60).
 */
export async function segmentJoinsBenchmark(workDir: string, rounds: number, log: (line: string) => void): Promise<SegmentJoinRuns> {
  const minutes = Number(process.env.BENCH_JOIN_MINUTES ?? 60);
  if (!(minutes >= 10 && minutes <= 240)) throw new Error('BENCH_JOIN_MINUTES must be 10..240');
  const input = await ensureInputWavOf(minutes * 60);
  const loadBefore = os.loadavg().map((l) => round(l, 2));
  const joiners: JoinerRuns[] = [];
  for (const presetId of PRESET_IDS) {
    const { segments, paths } = await cachedSegments(input, minutes, presetId, log);
    const runs: JoinerRuns = { presetId, segments: segments.length, old: [], new: [] };
    const outPath = path.join(workDir, `joined-${presetId}.${findPreset(presetId)!.extension}`);
    for (let r = 0; r < rounds; r++) {
      for (const which of r % 2 === 0 ? (['legacy', 'new'] as const) : (['new', 'legacy'] as const)) {
        const cost = await joinInChild(which, { presetId, segments, paths, outPath }, workDir);
        (which === 'new' ? runs.new : runs.old).push(cost);
        log(`  ${presetId} ${which === 'new' ? 'streamed ' : 'in memory'}: ${(cost.ms / 1000).toFixed(1)} s, peak RSS +${cost.peakRssMiB.toFixed(0)} MiB, longest event-loop delay ${cost.maxLoopDelayMs.toFixed(0)} ms (load ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')})`);
      }
    }
    joiners.push(runs);
  }
  return { inputMinutes: minutes, joiners, loadBefore, loadAfter: os.loadavg().map((l) => round(l, 2)) };
}

export function reportSegmentJoins(runs: SegmentJoinRuns, log: (line: string) => void): Record<string, unknown> {
  log('');
  log(`Segment joins, ${runs.inputMinutes}-minute stereo 44.1 kHz input, in memory (old) against streamed (new), medians, ratios new ÷ old:`);
  const rows: Record<string, unknown> = {};
  for (const j of runs.joiners) {
    const m = (costs: JoinCost[], key: keyof JoinCost) => median(costs.map((c) => c[key]));
    const row = {
      segments: j.segments,
      oldMs: round(m(j.old, 'ms'), 0),
      newMs: round(m(j.new, 'ms'), 0),
      timeRatio: round(m(j.new, 'ms') / m(j.old, 'ms'), 2),
      oldPeakRssMiB: round(m(j.old, 'peakRssMiB'), 1),
      newPeakRssMiB: round(m(j.new, 'peakRssMiB'), 1),
      rssRatio: round(m(j.new, 'peakRssMiB') / m(j.old, 'peakRssMiB'), 2),
      oldMaxLoopDelayMs: round(m(j.old, 'maxLoopDelayMs'), 0),
      newMaxLoopDelayMs: round(m(j.new, 'maxLoopDelayMs'), 0),
    };
    rows[j.presetId] = row;
    log(`  ${j.presetId.padEnd(9)} time ${(row.oldMs / 1000).toFixed(1)} → ${(row.newMs / 1000).toFixed(1)} s (×${row.timeRatio}); peak RSS +${row.oldPeakRssMiB} → +${row.newPeakRssMiB} MiB (×${row.rssRatio}); longest loop delay ${row.oldMaxLoopDelayMs} → ${row.newMaxLoopDelayMs} ms`);
  }
  log(`  load average ${runs.loadBefore.join(' / ')} before, ${runs.loadAfter.join(' / ')} after (2 cores shared with other sessions: times are noisy, memory is not)`);
  return { inputMinutes: runs.inputMinutes, loadBefore: runs.loadBefore, loadAfter: runs.loadAfter, joiners: rows };
}
