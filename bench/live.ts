import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { apiJson, signUpAndLogIn, uploadFile } from './http.ts';
import { cacheDir, diskFile } from './input.ts';
import { freePort, startNodeChild, type Child } from './proc.ts';
import { serviceEnv } from './service.ts';
import { openEventStream, type EventStream } from './sse.ts';
import { median, readRssKiB, repoRoot, round, sleep } from './util.ts';

const JOBS = 200;
const IDLE_STREAMS = 500;

export interface LiveResults {
  jobs: number;
  idleStreams: number;
  latencyMedianMs: number;
  latencyP99Ms: number;
  serviceKiBPerStream: number;
  bareKiBPerStream: number;
  perStreamRatio: number;
}

async function settledRss(pid: number): Promise<number> {
  await sleep(1500);
  return readRssKiB(pid);
}

/** RSS growth of a process while it holds `IDLE_STREAMS` open streams, per stream. */
async function perStreamKiB(child: Child, tokens: readonly string[]): Promise<{ kib: number; streams: EventStream[] }> {
  const before = await settledRss(child.pid);
  const streams: EventStream[] = [];
  for (let i = 0; i < IDLE_STREAMS; i++) streams.push(await openEventStream(child.port, tokens[i % tokens.length] ?? ''));
  const after = await settledRss(child.pid);
  return { kib: (after - before) / IDLE_STREAMS, streams };
}

/** The baseline: a bare Node server that holds event streams open and does nothing else. */
async function bareStreamServer(): Promise<Child> {
  const port = await freePort();
  return startNodeChild('bare SSE server', path.join(repoRoot, 'bench', 'bare-sse-server.ts'), [String(port)], { ...process.env }, port);
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

export async function liveBenchmark(log: (line: string) => void): Promise<LiveResults> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'reprise-bench-live-'));
  const port = await freePort();
  const service = await startNodeChild('service', 'src/main.ts', ['serve'], { ...serviceEnv(workDir, port, 2), LOGIN_RATE_LIMIT: '100000', SIGNUP_RATE_LIMIT: '100000', API_RATE_LIMIT: '1000000' }, port);
  const bare = await bareStreamServer();
  const open: EventStream[] = [];
  try {
    const tiny = path.join(cacheDir, 'tiny-0.5s.wav');
    await promisify(execFile)('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.5', '-ac', '2', tiny]);
    const others: string[] = [];
    // 5 streams per account: under the default EVENT_STREAMS_PER_USER (8), which answers 429 past it.
    for (let i = 0; i < 100; i++) others.push(await signUpAndLogIn(port));
    const service500 = await perStreamKiB(service, others);
    open.push(...service500.streams);
    const bare500 = await perStreamKiB(bare, ['']);
    open.push(...bare500.streams);
    log(`idle streams: service +${round(service500.kib, 1)} KiB each, bare Node SSE server +${round(bare500.kib, 1)} KiB each`);

    const owner = await signUpAndLogIn(port);
    const latencies: number[] = [];
    const arrived = new Map<string, () => void>();
    open.push(
      await openEventStream(port, owner, ({ type, data, at }) => {
        if (type !== 'notification.created') return;
        const n = JSON.parse(data) as { fileId: string; createdAt: string };
        latencies.push(at - Date.parse(n.createdAt));
        arrived.get(n.fileId)?.();
      }),
    );
    const file = await diskFile(tiny, 'audio/wav');
    for (let i = 0; i < JOBS; i += 2) {
      // Two at a time keeps both worker slots busy; each waits for its own event.
      await Promise.all(
        [0, 1].map(async () => {
          const waiting = new Promise<void>((resolve) => setTimeout(resolve, 30_000).unref());
          const up = await uploadFile(port, owner, file, 30_000);
          await Promise.race([new Promise<void>((resolve) => arrived.set(up.id, resolve)), waiting]);
        }),
      );
    }
    await apiJson(port, 'GET', '/files', { token: owner, expect: 200 });
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      jobs: latencies.length,
      idleStreams: IDLE_STREAMS,
      latencyMedianMs: median(sorted),
      latencyP99Ms: percentile(sorted, 99),
      serviceKiBPerStream: round(service500.kib, 1),
      bareKiBPerStream: round(bare500.kib, 1),
      perStreamRatio: round(service500.kib / Math.max(bare500.kib, 0.1), 2),
    };
  } finally {
    open.forEach((stream) => stream.close());
    await service.stop();
    await bare.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}
