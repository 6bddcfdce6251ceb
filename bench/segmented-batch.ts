/**
 * Issue 12's batch figure: splitting must not cost the many-short-jobs case. Eight 90 s stereo
 * 44.1 kHz WAVs (default presets) uploaded at once to an embedded service with 2 slots; time from
 * the first byte sent until all eight have completed. Three settings of SEGMENT_MIN_SECONDS, each
 * on a fresh service, the order rotated each round: the default (300: 90 s is one pass), 0
 * (segmenting off: the path before issue 12) and 60 (every 90 s job forced into segments, to show
 * what splitting would cost a batch).
 */
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { signUpAndLogIn, uploadFile, watchCompletions } from './http.ts';
import { diskFile, ensureInputWavOf } from './input.ts';
import { freePort, startNodeChild } from './proc.ts';
import { serviceEnv } from './service.ts';
import { median, round } from './util.ts';

const FILES = 8;
const INPUT_SECONDS = 90;
const SLOTS = 2;
const TIMEOUT_MS = 30 * 60_000;
const SETTINGS = [
  { label: 'default (300 s: one pass)', minSeconds: '300' },
  { label: 'off (0: before issue 12)', minSeconds: '0' },
  { label: 'forced split (60 s)', minSeconds: '60' },
] as const;

export interface SegmentedBatchRuns {
  files: number;
  inputSeconds: number;
  slots: number;
  /** Wall ms of each round, per SEGMENT_MIN_SECONDS value. */
  wallMs: Record<string, number[]>;
  /** Throughput of the default ÷ throughput with segmenting off (median walls); goal ≥ 0.95. */
  defaultVsOff: number;
  /** The same for a forced split of every job. */
  forcedVsOff: number;
  loadBefore: number[];
  loadAfter: number[];
}

/** One batch on a fresh service: ms from the first byte sent to the last completion. */
async function oneBatch(workDir: string, minSeconds: string, input: string): Promise<number> {
  const dataDir = path.join(workDir, `segmented-batch-${minSeconds}`);
  const port = await freePort();
  const env = { ...serviceEnv(dataDir, port, SLOTS), SEGMENT_MIN_SECONDS: minSeconds };
  const child = await startNodeChild(`service (SEGMENT_MIN_SECONDS=${minSeconds})`, 'src/main.ts', ['serve'], env, port);
  try {
    const token = await signUpAndLogIn(port);
    const events = await watchCompletions(port, token);
    try {
      const file = await diskFile(input, 'audio/wav');
      const sent = await Promise.all(Array.from({ length: FILES }, () => uploadFile(port, token, file, TIMEOUT_MS)));
      const firstByte = Math.min(...sent.map((s) => s.startedAt));
      const done = await Promise.all(sent.map((s) => events.completedAt(s.id, TIMEOUT_MS)));
      return Math.max(...done) - firstByte;
    } finally {
      events.close();
    }
  } finally {
    await child.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function segmentedBatchBenchmark(workDir: string, rounds: number, log: (line: string) => void): Promise<SegmentedBatchRuns> {
  const loadBefore = os.loadavg().map((l) => round(l, 2));
  const input = await ensureInputWavOf(INPUT_SECONDS);
  const wallMs: Record<string, number[]> = Object.fromEntries(SETTINGS.map((s) => [s.minSeconds, []]));
  for (let r = 0; r < rounds; r++) {
    const order = [...SETTINGS.slice(r % SETTINGS.length), ...SETTINGS.slice(0, r % SETTINGS.length)];
    for (const setting of order) {
      const before = os.loadavg()[0]?.toFixed(2);
      const ms = await oneBatch(workDir, setting.minSeconds, input);
      wallMs[setting.minSeconds]?.push(ms);
      log(`  round ${r + 1}/${rounds} ${setting.label}: ${FILES} × ${INPUT_SECONDS} s done after ${(ms / 1000).toFixed(1)} s (load ${before} → ${os.loadavg()[0]?.toFixed(2)})`);
    }
  }
  const med = (key: string) => median(wallMs[key] ?? []);
  return {
    files: FILES,
    inputSeconds: INPUT_SECONDS,
    slots: SLOTS,
    wallMs: Object.fromEntries(Object.entries(wallMs).map(([k, v]) => [k, v.map((ms) => Math.round(ms))])),
    defaultVsOff: round(med('0') / med('300'), 3),
    forcedVsOff: round(med('0') / med('60'), 3),
    loadBefore,
    loadAfter: os.loadavg().map((l) => round(l, 2)),
  };
}

export function reportSegmentedBatch(runs: SegmentedBatchRuns, log: (line: string) => void): SegmentedBatchRuns {
  const s = (key: string) => `median ${(median(runs.wallMs[key] ?? []) / 1000).toFixed(1)} s (${(runs.wallMs[key] ?? []).map((ms) => (ms / 1000).toFixed(1)).join(', ')})`;
  log('');
  log(`Segmented batch (issue 12): ${runs.files} × ${runs.inputSeconds} s stereo WAV at once, default presets, embedded, ${runs.slots} slots`);
  for (const setting of SETTINGS) log(`  SEGMENT_MIN_SECONDS ${setting.label}: ${s(setting.minSeconds)}`);
  log(`  throughput default ÷ off = ${runs.defaultVsOff} (goal ≥ 0.95); forced split ÷ off = ${runs.forcedVsOff}`);
  log(`  load average (1/5/15 min) before ${runs.loadBefore.join(' / ')}, after ${runs.loadAfter.join(' / ')}`);
  return runs;
}
