/**
 * Runs one join in a process of its own and prints what it cost as one JSON line: peak RSS above
 * the RSS just before the join (from the kernel's high-water mark, so no peak is missed between
 * samples), the largest `arrayBuffers` seen (sampled each 5 ms; Buffers live there), the longest
 * event-loop delay and its 99th percentile, and the wall time.
 *
 *   node --import tsx test/helpers/join-in-child.ts <new|legacy> <job.json>
 *
 * job.json: { presetId, segments, paths, outPath }. Used by the streaming-join tests and bench.
 */
import { readFile } from 'node:fs/promises';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { presets } from '../../src/media/presets.ts';
import { joinSegments, type Segment } from '../../src/media/segments/index.ts';
import { legacyJoinSegments } from './legacy-joins/index.ts';

export interface JoinJob {
  presetId: string;
  segments: Segment[];
  paths: string[];
  outPath: string;
}

export interface JoinCost {
  peakRssMiB: number;
  peakArrayBuffersMiB: number;
  maxLoopDelayMs: number;
  p99LoopDelayMs: number;
  ms: number;
}

const MiB = 1024 * 1024;
const [which, jobPath] = process.argv.slice(2);
if ((which !== 'new' && which !== 'legacy') || !jobPath) throw new Error('usage: join-in-child.ts <new|legacy> <job.json>');
const job = JSON.parse(await readFile(jobPath, 'utf8')) as JoinJob;
const preset = presets.find((p) => p.id === job.presetId);
if (!preset) throw new Error(`no preset ${job.presetId}`);
const join = which === 'new' ? joinSegments : legacyJoinSegments;

global.gc?.();
const baseRss = process.memoryUsage().rss;
const baseArrayBuffers = process.memoryUsage().arrayBuffers;
let peakArrayBuffers = baseArrayBuffers;
const sampler = setInterval(() => (peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers)), 5);
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const started = performance.now();
await join(preset, job.segments, job.paths, job.outPath);
const ms = performance.now() - started;
delay.disable();
clearInterval(sampler);
peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers);
// maxRSS is in KiB on Linux.
const cost: JoinCost = {
  peakRssMiB: (process.resourceUsage().maxRSS * 1024 - baseRss) / MiB,
  peakArrayBuffersMiB: (peakArrayBuffers - baseArrayBuffers) / MiB,
  maxLoopDelayMs: delay.max / 1e6,
  p99LoopDelayMs: delay.percentile(99) / 1e6,
  ms,
};
console.log(JSON.stringify(cost));
