/**
 * `npm run bench -- zip`: one file's outputs, 1 GiB in all, as one streamed ZIP against the same
 * bytes as plain single downloads, from the same service in the same run; and how far the
 * service's resident memory grows while the archive streams. The outputs come from a real
 * transcode; their bytes are then replaced in the store by large ones (transcoding 1 GiB would
 * measure ffmpeg, not the archive).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import SQLite from 'better-sqlite3';
import { apiJson, multipartBody, postStream, signUpAndLogIn } from './http.ts';
import { generatedWav } from './input.ts';
import { freePort, startNodeChild, type Child } from './proc.ts';
import { serviceEnv } from './service.ts';
import { isRecord, median, MiB, readCpuMs, readRssKiB, round, RssSampler, sleep } from './util.ts';

const PRESETS = ['wav-44k-16', 'flac-cd', 'mp3-128k', 'mp3-320k'];
const OUTPUT_BYTES = 256 * MiB;
const SAMPLE_MS = 20;

export interface ZipRun {
  order: number;
  plainMiBs: number;
  zipMiBs: number;
  zipBytes: number;
  growthMiB: number;
  /** The service's CPU time per GiB sent: less sensitive to a busy machine than throughput. */
  plainCpuSecPerGiB: number;
  zipCpuSecPerGiB: number;
}

export interface ZipBenchmark {
  outputBytes: number;
  runs: ZipRun[];
  ratioMedian: number;
  growthMiBMax: number;
  cpuRatioMedian: number;
}

/** GETs a URL and throws the body away, counting it: the client costs the same in both cases. */
function drain(port: number, urlPath: string, token: string): Promise<{ bytes: number; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`GET ${urlPath} answered ${res.statusCode}`));
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ bytes, seconds: (performance.now() - started) / 1000 }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function waitCompleted(port: number, token: string, id: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const file = await apiJson(port, 'GET', `/files/${id}`, { token, expect: 200 });
    if (file.status === 'completed') return;
    if (file.status === 'failed' || file.status === 'canceled') throw new Error(`bench file ${String(file.status)}`);
    await sleep(100);
  }
  throw new Error('bench file did not complete in a minute');
}

/** Swaps each output's bytes for OUTPUT_BYTES of noise, on disk and in the outputs table. */
async function inflateOutputs(dataDir: string, fileId: string): Promise<void> {
  const db = new SQLite(path.join(dataDir, 'reprise.sqlite'));
  try {
    const rows = db.prepare('SELECT preset_id, blob_key FROM outputs WHERE file_id = ?').all(fileId) as { preset_id: string; blob_key: string }[];
    if (rows.length !== PRESETS.length) throw new Error(`expected ${PRESETS.length} outputs, found ${rows.length}`);
    const noise = randomBytes(MiB);
    for (const row of rows) {
      const chunks = (function* () {
        for (let i = 0; i < OUTPUT_BYTES / MiB; i++) yield noise;
      })();
      await pipeline(Readable.from(chunks), createWriteStream(path.join(dataDir, 'blobs', 'objects', row.blob_key)));
      db.prepare('UPDATE outputs SET size = ? WHERE file_id = ? AND preset_id = ?').run(OUTPUT_BYTES, fileId, row.preset_id);
    }
  } finally {
    db.close();
  }
}

async function measureRound(child: Child, token: string, fileId: string, order: number, log: (line: string) => void): Promise<ZipRun> {
  const cpuMs = () => readCpuMs(child.pid).own;
  const plain = async () => {
    let bytes = 0;
    let seconds = 0;
    const cpuBefore = cpuMs();
    for (const preset of PRESETS) {
      const got = await drain(child.port, `/api/v1/files/${fileId}/outputs/${preset}`, token);
      bytes += got.bytes;
      seconds += got.seconds;
    }
    return { bytes, seconds, cpuMs: cpuMs() - cpuBefore };
  };
  const zipped = async () => {
    await sleep(300);
    const baseline = readRssKiB(child.pid);
    const sampler = new RssSampler(child.pid, SAMPLE_MS);
    sampler.start();
    try {
      const cpuBefore = cpuMs();
      const got = await drain(child.port, `/api/v1/files/${fileId}/outputs.zip`, token);
      const cpu = cpuMs() - cpuBefore;
      const stats = sampler.stop();
      const peak = Math.max(stats.peakKiB, stats.kernelPeakKiB ?? 0);
      return { ...got, cpuMs: cpu, growthMiB: Math.max(0, peak - baseline) / 1024 };
    } finally {
      sampler.stop();
    }
  };
  // Alternate which goes first, so the page cache and the JIT favour neither.
  const first = order % 2 === 0 ? await plain() : undefined;
  const zip = await zipped();
  const plainRun = first ?? (await plain());
  if (plainRun.bytes !== PRESETS.length * OUTPUT_BYTES) throw new Error(`plain downloads gave ${plainRun.bytes} bytes`);
  const run = {
    order,
    plainMiBs: round(plainRun.bytes / MiB / plainRun.seconds, 1),
    zipMiBs: round(zip.bytes / MiB / zip.seconds, 1),
    zipBytes: zip.bytes,
    growthMiB: round(zip.growthMiB, 1),
    plainCpuSecPerGiB: round(plainRun.cpuMs / 1000 / (plainRun.bytes / (1024 * MiB)), 2),
    zipCpuSecPerGiB: round(zip.cpuMs / 1000 / (zip.bytes / (1024 * MiB)), 2),
  };
  log(`  round ${order + 1}: plain ${run.plainMiBs} MiB/s, zip ${run.zipMiBs} MiB/s (ratio ${round(run.zipMiBs / run.plainMiBs, 2)}), RSS growth ${run.growthMiB} MiB; service CPU per GiB: plain ${run.plainCpuSecPerGiB} s, zip ${run.zipCpuSecPerGiB} s`);
  return run;
}

export async function zipBenchmark(workDir: string, rounds: number, log: (line: string) => void): Promise<ZipBenchmark> {
  const port = await freePort();
  const dataDir = path.join(workDir, 'zip-service-data');
  const child = await startNodeChild('service', 'src/main.ts', ['serve'], serviceEnv(dataDir, port, 1), port);
  try {
    const token = await signUpAndLogIn(port);
    const body = multipartBody({ presets: PRESETS.join(',') }, generatedWav(2 * MiB));
    const upload = await postStream(port, '/api/v1/files', body, { authorization: `Bearer ${token}` }, 60_000);
    const chosen = isRecord(upload.body) ? upload.body.id : undefined;
    if (upload.status !== 201 || typeof chosen !== 'string') throw new Error(`upload answered ${upload.status}`);
    await waitCompleted(port, token, chosen);
    await inflateOutputs(dataDir, chosen);
    const runs: ZipRun[] = [];
    for (let i = 0; i < rounds; i++) runs.push(await measureRound(child, token, chosen, i, log));
    return {
      outputBytes: PRESETS.length * OUTPUT_BYTES,
      runs,
      ratioMedian: round(median(runs.map((r) => r.zipMiBs / r.plainMiBs)), 2),
      growthMiBMax: Math.max(...runs.map((r) => r.growthMiB)),
      cpuRatioMedian: round(median(runs.map((r) => r.zipCpuSecPerGiB / r.plainCpuSecPerGiB)), 2),
    };
  } finally {
    await child.stop();
  }
}

export function reportZip(result: ZipBenchmark, log: (line: string) => void): ZipBenchmark {
  log('');
  log('ZIP download (issue 10, item 5)');
  log(`  ${result.outputBytes / MiB} MiB of outputs as one ZIP vs. the same bytes as single downloads: throughput ratio ${result.ratioMedian} (median of ${result.runs.length}; goal ≥ 0.9)`);
  log(`  service RSS growth while the archive streams: at most ${result.growthMiBMax} MiB (goal ≤ 64 MiB)`);
  log(`  service CPU per byte, ZIP over plain: ${result.cpuRatioMedian} (median)`);
  return result;
}
