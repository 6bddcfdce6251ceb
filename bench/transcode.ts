import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { transcodeArgs } from '../src/media/ffmpeg-args.ts';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { defaultPresetIds, findPreset, type Preset } from '../src/media/presets.ts';
import type { OutputPlan, ProbeResult } from '../src/media/types.ts';
import { apiJson, signUpAndLogIn, uploadFile, watchCompletions } from './http.ts';
import { diskFile } from './input.ts';
import { serviceEnv } from './service.ts';
import { ChildWatcher, freePort, startNodeChild, timeProcess, type Child, type ChildSpan, type Timed } from './proc.ts';
import { isRecord, readCpuMs } from './util.ts';

const FFMPEG_TIMEOUT_MS = 5 * 60_000;
/** The service's job writes waveform peaks in the same ffmpeg run; the bare runs do the same. */
export const PEAKS_STEP = 'waveform-peaks';

export interface Measured {
  wallMs: number[];
  cpuMs: number[];
}

export interface TranscodeRuns {
  /** (a) one bare ffmpeg with the service's arguments. */
  single: Measured;
  /** (b) one bare ffmpeg per preset (and one for the peaks), in sequence: the sums. */
  separate: Measured;
  separateSteps: Record<string, Measured>;
  /** (c) the service: from the upload's 201 to the event that says "completed". */
  service: Measured;
  /** Where the service's time went, from its children as seen in /proc every 10 ms. */
  servicePhases: ServicePhases;
  /** Whether the service's outputs had the same sizes as bare ffmpeg's (same work done). */
  outputSizesMatch: boolean;
}

export interface ServicePhases {
  /** 201 to the job's ffmpeg starting. */
  pickupMs: number[];
  /** The job's ffmpeg run: compare with (a). */
  ffmpegMs: number[];
  /** ffmpeg's exit to the event that says "completed". */
  afterMs: number[];
  /** The part of afterMs spent in ffprobe children (checking the outputs). */
  probesMs: number[];
  /** CPU of the server process itself (job bookkeeping and the event stream). */
  serverCpuMs: number[];
}

/** Splits a service run using the spans of the server's children. */
function phasesOf(spans: readonly ChildSpan[], start: number, end: number) {
  const ffmpeg = spans.find((s) => s.name === 'ffmpeg');
  if (!ffmpeg?.endedAt) return undefined;
  const ffmpegEnd = ffmpeg.endedAt;
  const probes = spans.filter((s) => s.name === 'ffprobe' && s.startedAt >= ffmpegEnd);
  return {
    pickupMs: ffmpeg.startedAt - start,
    ffmpegMs: ffmpegEnd - ffmpeg.startedAt,
    afterMs: end - ffmpegEnd,
    probesMs: probes.reduce((sum, s) => sum + ((s.endedAt ?? end) - s.startedAt), 0),
  };
}

const measured = (): Measured => ({ wallMs: [], cpuMs: [] });
const push = (m: Measured | undefined, t: Timed) => {
  m?.wallMs.push(t.wallMs);
  m?.cpuMs.push(t.cpuMs);
};

async function sizesOf(plans: readonly OutputPlan[]): Promise<Record<string, number>> {
  const entries = await Promise.all(plans.map(async (p) => [p.preset.id, (await stat(p.path)).size] as const));
  return Object.fromEntries(entries);
}

class Bench {
  readonly runs: TranscodeRuns;
  private bareSizes: Record<string, number> | undefined;
  private serviceSizes: Record<string, number>[] = [];
  private outCount = 0;

  constructor(
    private readonly input: string,
    private readonly probe: ProbeResult,
    private readonly presets: readonly Preset[],
    private readonly workDir: string,
    private readonly service: { child: Child; token: string },
  ) {
    const steps = Object.fromEntries([...presets.map((p) => p.id), PEAKS_STEP].map((id) => [id, measured()]));
    const servicePhases = { pickupMs: [], ffmpegMs: [], afterMs: [], probesMs: [], serverCpuMs: [] };
    this.runs = { single: measured(), separate: measured(), separateSteps: steps, service: measured(), servicePhases, outputSizesMatch: false };
  }

  /** A fresh output folder, laid out as the service's job lays out its scratch folder. */
  private async scratch<T>(run: (plans: OutputPlan[], peaksPath: string) => Promise<T>): Promise<T> {
    const dir = path.join(this.workDir, `out-${this.outCount++}`);
    await mkdir(dir);
    try {
      const plans = this.presets.map((preset) => ({ preset, path: path.join(dir, `${preset.id}.${preset.extension}`) }));
      return await run(plans, path.join(dir, 'peaks.u8'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  single(record = true): Promise<number> {
    return this.scratch(async (plans, peaksPath) => {
      const t = await timeProcess('ffmpeg', transcodeArgs(this.input, this.probe, plans, peaksPath), FFMPEG_TIMEOUT_MS);
      this.bareSizes ??= await sizesOf(plans);
      if (record) push(this.runs.single, t);
      return t.wallMs;
    });
  }

  separate(): Promise<number> {
    return this.scratch(async (plans, peaksPath) => {
      const commands: [string, string[]][] = plans.map((plan) => [plan.preset.id, transcodeArgs(this.input, this.probe, [plan])]);
      commands.push([PEAKS_STEP, transcodeArgs(this.input, this.probe, [], peaksPath)]);
      const total: Timed = { wallMs: 0, cpuMs: 0 };
      for (const [id, args] of commands) {
        const t = await timeProcess('ffmpeg', args, FFMPEG_TIMEOUT_MS);
        push(this.runs.separateSteps[id], t);
        total.wallMs += t.wallMs;
        total.cpuMs += t.cpuMs;
      }
      push(this.runs.separate, total);
      return total.wallMs;
    });
  }

  async viaService(): Promise<number> {
    const { child, token } = this.service;
    const file = await diskFile(this.input, 'audio/wav');
    const events = await watchCompletions(child.port, token);
    const uploaded = await uploadFile(child.port, token, file, 5 * 60_000);
    let spans: ChildSpan[] = [];
    const before = readCpuMs(child.pid);
    const watcher = new ChildWatcher(child.pid, 20);
    watcher.start();
    let completedAt: number;
    try {
      completedAt = await events.completedAt(uploaded.id, FFMPEG_TIMEOUT_MS);
    } finally {
      spans = watcher.stop();
      events.close();
    }
    const view = await apiJson(child.port, 'GET', `/files/${uploaded.id}`, { token, expect: 200 });
    const after = readCpuMs(child.pid);
    const phases = phasesOf(spans, uploaded.respondedAt, completedAt);
    const p = this.runs.servicePhases;
    p.serverCpuMs.push(after.own - before.own);
    if (phases) {
      p.pickupMs.push(phases.pickupMs);
      p.ffmpegMs.push(phases.ffmpegMs);
      p.afterMs.push(phases.afterMs);
      p.probesMs.push(phases.probesMs);
    }
    // The server's own CPU plus its ffmpeg and ffprobe children.
    const cpuMs = after.own + after.children - before.own - before.children;
    const wallMs = completedAt - uploaded.respondedAt;
    push(this.runs.service, { wallMs, cpuMs });
    const outputs = Array.isArray(view.outputs) ? view.outputs.filter(isRecord) : [];
    this.serviceSizes.push(Object.fromEntries(outputs.map((o) => [String(o.preset), Number(o.size)])));
    // Free the disk space; not part of the measurement.
    await apiJson(child.port, 'DELETE', `/files/${uploaded.id}`, { token, expect: 204 });
    return wallMs;
  }

  finish(): TranscodeRuns {
    const expected = JSON.stringify(this.bareSizes);
    this.runs.outputSizesMatch =
      this.bareSizes !== undefined && this.serviceSizes.length > 0 && this.serviceSizes.every((s) => JSON.stringify(s) === expected);
    if (!this.runs.outputSizesMatch) {
      console.error(`note: output sizes differ: bare ${expected}, service ${JSON.stringify(this.serviceSizes)}`);
    }
    return this.runs;
  }
}

/**
 * Runs (a), (b) and (c) `rounds` times, rotating their order each round so that drift in the
 * machine's speed (thermal, page cache, neighbours) falls on every side alike.
 */
export async function transcodeBenchmark(
  input: string,
  workDir: string,
  rounds: number,
  log: (line: string) => void,
): Promise<TranscodeRuns> {
  const presets = defaultPresetIds.map((id) => {
    const p = findPreset(id);
    if (!p) throw new Error(`unknown default preset ${id}`);
    return p;
  });
  const probe = await createFfmpegMedia({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', stallTimeoutMs: 60_000 }).probe(input);

  const dataDir = path.join(workDir, 'service-data');
  const port = await freePort();
  const child = await startNodeChild('service (WORKER_CONCURRENCY=1)', 'src/main.ts', ['serve'], serviceEnv(dataDir, port, 1), port);
  try {
    const token = await signUpAndLogIn(port);
    const outRoot = await mkdtemp(path.join(workDir, 'bare-'));
    const bench = new Bench(input, probe, presets, outRoot, { child, token });

    log('  warm-up: one bare ffmpeg run (not counted)');
    await bench.single(false);
    const steps = [
      ['a', 'bare ffmpeg, one process', () => bench.single()],
      ['b', 'bare ffmpeg, one per output', () => bench.separate()],
      ['c', 'service', () => bench.viaService()],
    ] as const;
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < steps.length; k++) {
        const step = steps[(round + k) % steps.length];
        if (!step) continue;
        const [key, label, run] = step;
        const ms = await run();
        log(`  round ${round + 1}/${rounds} (${key}) ${label}: ${(ms / 1000).toFixed(2)} s`);
      }
    }
    return bench.finish();
  } finally {
    await child.stop();
  }
}
