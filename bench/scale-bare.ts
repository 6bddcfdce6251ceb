/**
 * The machine's own ceiling for scenario 1: the same 8 encodes as bare ffmpeg processes with the
 * service's arguments (transcodeArgs: the preset plus the waveform peaks), one at a time against
 * two at a time. A speed-up the hardware cannot give, the service cannot give either.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { transcodeArgs } from '../src/media/ffmpeg-args.ts';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { findPreset } from '../src/media/presets.ts';
import { timeProcess } from './proc.ts';
import { CpuMeter } from './scale-cpu.ts';
import { round } from './util.ts';

export interface BareRun {
  lanes: number;
  seconds: number;
  /** Cores busy with the encodes, with anything else in this VM, and stolen by the hypervisor. */
  ffmpegCores: number;
  otherCores: number;
  stealCores: number;
}

export interface BareCeiling {
  /** In the order run: one lane, two lanes, two lanes, one lane. */
  runs: BareRun[];
  oneLaneSeconds: number[];
  twoLanesSeconds: number[];
  speedUp: number;
}

export async function bareCeiling(input: string, presetId: string, jobs: number, log: (line: string) => void): Promise<BareCeiling> {
  const preset = findPreset(presetId);
  if (!preset) throw new Error(`unknown preset ${presetId}`);
  const probe = await createFfmpegMedia({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallTimeoutMs: 60_000 }).probe(input);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-scale-bare-'));
  let n = 0;
  let ffmpegMs = 0;
  const encode = async () => {
    const out = path.join(dir, `${n++}`);
    const plan = { preset, path: `${out}.${preset.extension}` };
    ffmpegMs += (await timeProcess('ffmpeg', transcodeArgs(input, probe, [plan], `${out}.peaks`), 120_000)).cpuMs;
  };
  /** `jobs` encodes spread over `lanes` lanes that each run theirs one after another. */
  const runs: BareRun[] = [];
  const run = async (lanes: number) => {
    ffmpegMs = 0;
    const meter = new CpuMeter({});
    meter.start();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let i = lane; i < jobs; i += lanes) await encode();
      }),
    );
    const wallMs = performance.now() - started;
    const cores = meter.stop();
    const seconds = round(wallMs / 1000, 2);
    const ffmpegCores = round(ffmpegMs / wallMs, 2);
    const r = { lanes, seconds, ffmpegCores, otherCores: round((cores.other ?? 0) - ffmpegCores, 2), stealCores: cores.steal ?? 0 };
    runs.push(r);
    log(`  bare ffmpeg, ${jobs} encodes in ${lanes} lane${lanes > 1 ? 's' : ''}: ${seconds} s (cores busy: ffmpeg ${r.ffmpegCores}, anything else ${r.otherCores}, stolen ${r.stealCores})`);
    return seconds;
  };
  try {
    const a1 = await run(1);
    const b1 = await run(2);
    const b2 = await run(2);
    const a2 = await run(1);
    return { runs, oneLaneSeconds: [a1, a2], twoLanesSeconds: [b1, b2], speedUp: round((a1 + a2) / (b1 + b2), 2) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
