/**
 * A model on paper of one segmented job's wall time against the number of one-slot workers,
 * from measured per-part costs (bench/segmented-costs.json, filled from the segmented suites):
 * the parts are list-scheduled in plan order onto the slots, as the queue hands them out, and
 * the joins run when their inputs are done. Prints a table per scenario (today, in flight,
 * limits lifted) and checks itself against the measured 60-minute, 2-slot run.
 *
 *   node --import tsx bench/segmented-model.ts [costs.json] [input minutes, default 180]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, round } from './util.ts';

interface PresetCosts {
  encodeSecondsPerAudioMinute: number;
  decodeSecondsPerStartMinute: number;
  preRollSeconds: number;
  joinSecondsPerAudioMinute: number;
  mbPerMinute: number;
}

interface Costs {
  bareSecondsPerInputMinute: number;
  splitJobSeconds: number;
  queuePickupSeconds: { embedded: number; scaleOut: number };
  s3SecondsPerGB: number;
  maxSegmentsPerPreset: number;
  minSegmentSeconds: number;
  presets: Record<string, PresetCosts>;
  whole: {
    presets: string[];
    secondsPerInputMinute: number;
    copySecondsPerInputMinute: number;
    mbPerMinute: number;
    ifSplit: { encodeSecondsPerAudioMinute: number; joinSecondsPerAudioMinute: Record<string, number>; peaksSecondsPerInputMinute: number };
  };
}

export interface Scenario {
  label: string;
  s3: boolean;
  /** Segments per preset at most (Infinity: segments stay minSegmentSeconds long). */
  cap: number;
  /** Each segment decodes the input from its start (no seek), as today. */
  decodeFromStart: boolean;
  /** What a part downloads in S3 mode: the whole input (today) or the range it encodes. */
  download: 'whole' | 'range';
  /** One join after every part (today), or one per preset as soon as its segments are done. */
  join: 'serial' | 'per-preset';
  /** Whether the whole part's outputs are copied (today) or published by a link / server-side copy. */
  copyWhole: boolean;
  /** Whether WAV and FLAC are segmented too (leaving only the peaks one pass). */
  splitWhole: boolean;
  /** Join seconds per audio minute for every output instead of the measured ones (joins that only concatenate). */
  joinOverride?: number;
}

interface Job {
  name: string;
  cost: number;
  readyAt: number;
  order: number;
  /** Called with its end time when scheduled; may add jobs that become ready then. */
  onEnd?: (end: number) => void;
}

const MB_PER_INPUT_MINUTE = (44_100 * 4 * 60) / 1e6;

/** Wall seconds from the split to the last join's end, on `slots` one-slot workers; and the busiest kind of work. */
export function simulate(costs: Costs, sc: Scenario, inputMinutes: number, slots: number): { wall: number; cpu: number; longestPart: number; joinTail: number } {
  const pickup = sc.s3 ? costs.queuePickupSeconds.scaleOut : costs.queuePickupSeconds.embedded;
  const transfer = (mb: number) => (sc.s3 ? (mb / 1000) * costs.s3SecondsPerGB : 0);
  const inputMb = inputMinutes * MB_PER_INPUT_MINUTE;
  const stepSeconds = Math.max(costs.minSegmentSeconds, (inputMinutes * 60) / sc.cap);
  const count = Math.max(1, Math.round((inputMinutes * 60) / stepSeconds));
  const queue: Job[] = [];
  let order = 0;
  const add = (job: Omit<Job, 'order'>) => queue.push({ ...job, order: order++ });
  const joins: { name: string; cost: number }[] = [];
  const lastEnds: number[] = [];
  let lastPartEnd = 0;
  let longestPart = 0;

  /** The segments of one output, each a part; its join when they are all done. */
  const segmented = (name: string, p: PresetCosts) => {
    let left = count;
    let end = 0;
    const joinCost = (sc.joinOverride ?? p.joinSecondsPerAudioMinute) * inputMinutes + transfer(2 * p.mbPerMinute * inputMinutes);
    for (let i = 0; i < count; i++) {
      const startMin = Math.max(0, (i * stepSeconds - p.preRollSeconds) / 60);
      const audioMin = (i === count - 1 ? inputMinutes * 60 - i * stepSeconds : stepSeconds) / 60 + p.preRollSeconds / 60;
      const cost = p.encodeSecondsPerAudioMinute * audioMin + (sc.decodeFromStart ? p.decodeSecondsPerStartMinute * startMin : 0) + transfer(sc.download === 'whole' ? inputMb : audioMin * MB_PER_INPUT_MINUTE) + transfer(audioMin * p.mbPerMinute);
      longestPart = Math.max(longestPart, cost);
      add({
        name: `${name}#${i}`,
        cost,
        readyAt: 0,
        onEnd: (e) => {
          end = Math.max(end, e);
          if (--left === 0 && sc.join === 'per-preset') add({ name: `join ${name}`, cost: joinCost, readyAt: end, onEnd: (j) => lastEnds.push(j) });
        },
      });
    }
    if (sc.join === 'serial') joins.push({ name, cost: joinCost });
  };

  const w = costs.whole;
  const wholeMb = w.mbPerMinute * inputMinutes;
  const publishWhole = sc.copyWhole ? (sc.s3 ? transfer(2 * wholeMb) : w.copySecondsPerInputMinute * inputMinutes) : 0;
  // Plan order: the whole part first (the longest), then each lossy preset's segments in turn.
  if (sc.splitWhole) {
    const peaks = w.ifSplit.peaksSecondsPerInputMinute * inputMinutes + transfer(inputMb);
    add({ name: 'peaks', cost: peaks, readyAt: 0, onEnd: (e) => lastEnds.push(e) });
    // Lossless segments need no pre-roll (decision 0012); the one-pass cost is shared between them.
    const perOutput = (id: string) => ({ encodeSecondsPerAudioMinute: w.ifSplit.encodeSecondsPerAudioMinute / w.presets.length, decodeSecondsPerStartMinute: 0.02, preRollSeconds: 0, joinSecondsPerAudioMinute: w.ifSplit.joinSecondsPerAudioMinute[id] ?? 0, mbPerMinute: w.mbPerMinute / w.presets.length });
    for (const id of w.presets) segmented(id, perOutput(id));
  } else {
    const cost = w.secondsPerInputMinute * inputMinutes + transfer(inputMb) + transfer(wholeMb);
    longestPart = Math.max(longestPart, cost);
    add({ name: 'whole', cost, readyAt: 0, onEnd: (e) => (sc.join === 'per-preset' ? add({ name: 'publish whole', cost: publishWhole, readyAt: e, onEnd: (j) => lastEnds.push(j) }) : undefined) });
    if (sc.join === 'serial') joins.push({ name: 'whole', cost: publishWhole });
  }
  for (const [id, p] of Object.entries(costs.presets)) segmented(id, p);

  // The queue: whichever slot is free first takes the oldest job that is ready.
  const free = Array.from({ length: slots }, () => 0);
  let cpu = 0;
  while (queue.length > 0) {
    const s = free.indexOf(Math.min(...free));
    const t = free[s] ?? 0;
    const ready = queue.filter((j) => j.readyAt <= t);
    if (ready.length === 0) {
      free[s] = Math.min(...queue.map((j) => j.readyAt));
      continue;
    }
    const job = ready.reduce((a, b) => (b.order < a.order ? b : a));
    queue.splice(queue.indexOf(job), 1);
    const end = t + pickup + job.cost;
    cpu += job.cost;
    free[s] = end;
    if (!job.name.startsWith('join') && !job.name.startsWith('publish')) lastPartEnd = Math.max(lastPartEnd, end);
    job.onEnd?.(end);
  }
  const joinTail = joins.reduce((sum, j) => sum + j.cost, 0);
  cpu += joinTail;
  const end = sc.join === 'serial' ? lastPartEnd + pickup + joinTail : Math.max(lastPartEnd, ...lastEnds);
  // In S3 mode the split job downloads the whole input too (to probe it fully).
  return { wall: round(costs.splitJobSeconds + transfer(inputMb) + end, 1), cpu: round(cpu, 1), longestPart: round(longestPart, 1), joinTail: round(joinTail, 1) };
}

export const SCENARIOS: Scenario[] = [
  { label: 'today, embedded (disk)', s3: false, cap: 8, decodeFromStart: true, download: 'whole', join: 'serial', copyWhole: true, splitWhole: false },
  { label: 'today, scale-out (S3: every part downloads the whole input)', s3: true, cap: 8, decodeFromStart: true, download: 'whole', join: 'serial', copyWhole: true, splitWhole: false },
  { label: 'in flight, scale-out: per-preset joins overlap, whole outputs linked, parts read their range', s3: true, cap: 8, decodeFromStart: false, download: 'range', join: 'per-preset', copyWhole: false, splitWhole: false },
  { label: 'in flight + no 8-segment cap (150 s segments), scale-out', s3: true, cap: Infinity, decodeFromStart: false, download: 'range', join: 'per-preset', copyWhole: false, splitWhole: false },
  { label: 'in flight + no cap + WAV/FLAC segmented too, scale-out', s3: true, cap: Infinity, decodeFromStart: false, download: 'range', join: 'per-preset', copyWhole: false, splitWhole: true },
  { label: 'all of that + joins that only concatenate (each part remuxes its own packets; 0.03 s per audio minute), scale-out', s3: true, cap: Infinity, decodeFromStart: false, download: 'range', join: 'per-preset', copyWhole: false, splitWhole: true, joinOverride: 0.03 },
];

function main(): void {
  const file = process.argv[2] ?? path.join(repoRoot, 'bench', 'segmented-costs.json');
  const minutes = Number(process.argv[3] ?? 180);
  const costs = JSON.parse(readFileSync(file, 'utf8')) as Costs; // our own file, shaped as above
  const bare = costs.bareSecondsPerInputMinute * minutes;
  const check = simulate(costs, SCENARIOS[0] as Scenario, 60, 2);
  console.log(`check: 60-minute input, 2 slots, today embedded: model ${check.wall} s; measured 92.4 s on a quiet machine (from the upload's 201)`);
  console.log(`${minutes}-minute stereo 44.1 kHz input → ${[...costs.whole.presets, ...Object.keys(costs.presets)].join(', ')}; bare one-process ffmpeg ${round(bare, 1)} s; one-slot workers, one core each`);
  for (const sc of SCENARIOS) {
    console.log(`\n${sc.label}`);
    console.log('  workers  wall s  ÷ bare  CPU s  longest part s  join after all parts s');
    for (const workers of [1, 2, 4, 16, 64]) {
      const r = simulate(costs, sc, minutes, workers);
      console.log(`  ${String(workers).padStart(7)}  ${r.wall.toFixed(1).padStart(6)}  ${(r.wall / bare).toFixed(3).padStart(6)}  ${r.cpu.toFixed(0).padStart(5)}  ${r.longestPart.toFixed(1).padStart(14)}  ${r.joinTail.toFixed(1).padStart(21)}`);
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(repoRoot, 'bench', 'segmented-model.ts')) main();
