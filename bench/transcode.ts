import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { transcodeArgs } from '../src/media/ffmpeg-args.ts';
import { createFfmpegMedia } from '../src/media/ffmpeg.ts';
import { defaultPresetIds, findPreset, type Preset } from '../src/media/presets.ts';
import type { OutputPlan, ProbeResult } from '../src/media/types.ts';
import { apiJson, pollUntilCompleted, signUpAndLogIn, uploadFile } from './http.ts';
import { diskFile } from './input.ts';
import { serviceEnv } from './service.ts';
import { freePort, isRecord, startNodeChild, timeProcess, type Child } from './util.ts';

const FFMPEG_TIMEOUT_MS = 5 * 60_000;
const POLL_MS = 25;

export interface TranscodeRuns {
  /** (a) one bare ffmpeg with the service's arguments, ms per run. */
  single: number[];
  /** (b) one bare ffmpeg per preset, in sequence: the sum per run, and each preset's time. */
  separate: number[];
  separateByPreset: Record<string, number[]>;
  /** (c) the service: from the upload's 201 to the first poll that sees "completed". */
  service: number[];
  /** Whether the service's outputs had the same sizes as bare ffmpeg's (same work done). */
  outputSizesMatch: boolean;
}

const plansIn = (dir: string, presets: readonly Preset[]): OutputPlan[] =>
  presets.map((preset) => ({ preset, path: path.join(dir, `${preset.id}.${preset.extension}`) }));

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
    this.runs = { single: [], separate: [], separateByPreset: {}, service: [], outputSizesMatch: false };
    for (const p of presets) this.runs.separateByPreset[p.id] = [];
  }

  private async outDir(): Promise<string> {
    const dir = path.join(this.workDir, `out-${this.outCount++}`);
    await mkdir(dir);
    return dir;
  }

  async single(record = true): Promise<number> {
    const dir = await this.outDir();
    try {
      const plans = plansIn(dir, this.presets);
      const ms = await timeProcess('ffmpeg', transcodeArgs(this.input, this.probe, plans), FFMPEG_TIMEOUT_MS);
      this.bareSizes ??= await sizesOf(plans);
      if (record) this.runs.single.push(ms);
      return ms;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async separate(): Promise<number> {
    const dir = await this.outDir();
    try {
      let total = 0;
      for (const plan of plansIn(dir, this.presets)) {
        const ms = await timeProcess('ffmpeg', transcodeArgs(this.input, this.probe, [plan]), FFMPEG_TIMEOUT_MS);
        this.runs.separateByPreset[plan.preset.id]?.push(ms);
        total += ms;
      }
      this.runs.separate.push(total);
      return total;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async viaService(): Promise<number> {
    const { child, token } = this.service;
    const file = await diskFile(this.input, 'audio/wav');
    const uploaded = await uploadFile(child.port, token, file, 5 * 60_000);
    const { completedAt, file: view } = await pollUntilCompleted(child.port, token, uploaded.id, POLL_MS, FFMPEG_TIMEOUT_MS);
    const ms = completedAt - uploaded.respondedAt;
    this.runs.service.push(ms);
    const outputs = Array.isArray(view.outputs) ? view.outputs.filter(isRecord) : [];
    this.serviceSizes.push(Object.fromEntries(outputs.map((o) => [String(o.preset), Number(o.size)])));
    // Free the disk space; not part of the measurement.
    await apiJson(child.port, 'DELETE', `/files/${uploaded.id}`, { token, expect: 204 });
    return ms;
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
      ['b', 'bare ffmpeg, one per preset', () => bench.separate()],
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
