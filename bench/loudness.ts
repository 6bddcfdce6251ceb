import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { apiJson, multipartBody, postStream, signUpAndLogIn, watchCompletions } from './http.ts';
import { diskFile } from './input.ts';
import { freePort, startNodeChild } from './proc.ts';
import { serviceEnv } from './service.ts';
import { isRecord, median, readCpuMs, round } from './util.ts';

const JOB_TIMEOUT_MS = 10 * 60_000;
/** Off first in the first round; the order rotates each round so no variant always runs first. */
const VARIANTS = ['off', 'podcast', 'streaming', 'broadcast'] as const;
type Variant = (typeof VARIANTS)[number];

export interface LoudnessRuns {
  wallMs: Record<Variant, number[]>;
  /** CPU of the job's ffmpeg runs (the service's reaped children): far less swayed by a busy machine. */
  cpuMs: Record<Variant, number[]>;
  methods: Record<Variant, string[]>;
  loadAverages: string[];
}

const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');

/**
 * Job wall time with loudness normalization against without: the same input through the same
 * service (one worker, default presets), each job timed from the upload's 201 to the event that
 * says "completed".
 */
export async function loudnessBenchmark(input: string, workDir: string, rounds: number, log: (line: string) => void): Promise<LoudnessRuns> {
  const dataDir = path.join(workDir, 'loudness-service-data');
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const child = await startNodeChild('service (WORKER_CONCURRENCY=1)', 'src/main.ts', ['serve'], serviceEnv(dataDir, port, 1), port);
  const runs: LoudnessRuns = {
    wallMs: { off: [], podcast: [], streaming: [], broadcast: [] },
    cpuMs: { off: [], podcast: [], streaming: [], broadcast: [] },
    methods: { off: [], podcast: [], streaming: [], broadcast: [] },
    loadAverages: [],
  };
  try {
    const token = await signUpAndLogIn(port);
    const file = await diskFile(input, 'audio/wav');
    for (let round = 0; round < rounds; round++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length] as Variant);
      for (const variant of order) {
        const events = await watchCompletions(port, token);
        try {
          const cpuBefore = readCpuMs(child.pid).children;
          const fields: Record<string, string> = variant === 'off' ? {} : { loudness: variant };
          const posted = await postStream(port, '/api/v1/files', multipartBody(fields, file), { authorization: `Bearer ${token}` }, JOB_TIMEOUT_MS);
          const id = isRecord(posted.body) ? posted.body.id : undefined;
          if (posted.status !== 201 || typeof id !== 'string') throw new Error(`upload failed with ${posted.status}`);
          const completedAt = await events.completedAt(id, JOB_TIMEOUT_MS);
          const wall = completedAt - posted.respondedAt;
          runs.wallMs[variant].push(wall);
          const cpu = readCpuMs(child.pid).children - cpuBefore;
          runs.cpuMs[variant].push(cpu);
          const view = await apiJson(port, 'GET', `/files/${id}`, { token, expect: 200 });
          const loudness = isRecord(view) && isRecord(view.loudness) ? view.loudness : undefined;
          const method = loudness && isRecord(loudness.report) ? String(loudness.report.method) : '-';
          runs.methods[variant].push(method);
          log(`  round ${round + 1} ${variant}: ${Math.round(wall)} ms wall, ${Math.round(cpu)} ms ffmpeg CPU (${method})`);
        } finally {
          events.close();
        }
      }
      runs.loadAverages.push(loadavg());
    }
  } finally {
    await child.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  return runs;
}

export function reportLoudness(runs: LoudnessRuns, log: (line: string) => void) {
  const off = median(runs.wallMs.off);
  const offCpu = median(runs.cpuMs.off);
  const normalizing = VARIANTS.filter((v) => v !== 'off');
  const ratios = Object.fromEntries(normalizing.map((v) => [v, round(median(runs.wallMs[v]) / off, 3)]));
  const cpuRatios = Object.fromEntries(normalizing.map((v) => [v, round(median(runs.cpuMs[v]) / offCpu, 3)]));
  log('');
  log('Loudness normalization (issue 10): job wall time with ÷ without, same input, same run (goal ≤ 1.3)');
  log(`  without: median ${Math.round(off)} ms wall, ${Math.round(offCpu)} ms ffmpeg CPU`);
  for (const v of normalizing) {
    log(`  ${v}: median ${Math.round(median(runs.wallMs[v]))} ms wall, ratio ${ratios[v]}; ffmpeg CPU ratio ${cpuRatios[v]} (${runs.methods[v].join(', ')})`);
  }
  log(`  load average after each round (1/5/15 min): ${runs.loadAverages.join('; ')}`);
  return { medianMs: Object.fromEntries(VARIANTS.map((v) => [v, Math.round(median(runs.wallMs[v]))])), ratios, cpuRatios, methods: runs.methods, loadAverages: runs.loadAverages };
}
