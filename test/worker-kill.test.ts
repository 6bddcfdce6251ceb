/**
 * Scale-out: a worker process SIGKILLed with a job in hand (issue 12). Its pool stops beating,
 * the sweeper releases its jobs, and the other worker runs them: a one-pass transcode again as a
 * whole, a segmented one only the part that was in hand. Timings are logged, not asserted.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ffprobe, fixtures } from './helpers/audio.ts';
import { backend, listStoredBlobs } from './helpers/backends.ts';
import { ApiClient, type FileJson } from './helpers/clients.ts';
import { fileWhen } from './helpers/files.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';

interface LogLine {
  at: number;
  msg: string;
  job?: string;
  jobId?: string;
  attempt?: number;
  outcome?: string;
  payload?: { fileId?: string; part?: number };
}

/** A `worker` process, as docs/deploy.md starts one, with its log kept as parsed lines. */
class WorkerProcess {
  readonly lines: LogLine[] = [];
  private readonly watchers = new Set<(line: LogLine) => void>();
  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly dataDir: string,
  ) {
    let rest = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = rest + chunk.toString('utf8');
      const complete = text.split('\n');
      rest = complete.pop() ?? '';
      for (const raw of complete) {
        if (!raw.startsWith('{')) continue;
        const line = { ...(JSON.parse(raw) as Omit<LogLine, 'at'>), at: Date.now() };
        this.lines.push(line);
        for (const watch of this.watchers) watch(line);
      }
    });
  }

  static async start(name: string, env: Record<string, string>): Promise<WorkerProcess> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), `reprise-${name}-`));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'worker'], {
      env: { ...process.env, ...env, DATA_DIR: dataDir, WORKER_CONCURRENCY: '1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
      // Its own process group: the SIGKILL takes its ffmpeg too, as a machine losing power would.
      detached: true,
    });
    const worker = new WorkerProcess(name, child, dataDir);
    await waitFor(`${name} to start`, async () => (worker.lines.some((l) => l.msg === 'graphile worker pool started') ? true : undefined), 60_000);
    return worker;
  }

  /** Calls `watch` with every line from now on. */
  onLine(watch: (line: LogLine) => void): void {
    this.watchers.add(watch);
  }

  kill(signal: NodeJS.Signals): void {
    try {
      if (this.child.pid) process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.kill('SIGTERM');
      const force = setTimeout(() => this.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(force);
    }
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

const startsOf = (lines: readonly LogLine[], fileId: string, job: string) => lines.filter((l) => l.msg === 'job started' && l.job === job && l.payload?.fileId === fileId);

/** Segment parts of this file finished (by any worker), by part: "job finished" lines name only the job id. */
function partsFinished(lines: readonly LogLine[], fileId: string): Set<number> {
  const partOf = new Map<string, number>();
  for (const l of startsOf(lines, fileId, 'segment')) if (l.jobId !== undefined && l.payload?.part !== undefined) partOf.set(String(l.jobId), l.payload.part);
  const parts = new Set<number>();
  for (const l of lines) {
    const part = l.msg === 'job finished' && l.outcome === 'done' ? partOf.get(String(l.jobId)) : undefined;
    if (part !== undefined) parts.add(part);
  }
  return parts;
}

/** Downloads every output and checks it is as long as the input. */
async function assertWholeOutputs(api: ApiClient, file: FileJson, scratch: string, seconds: number): Promise<void> {
  assert.ok(file.outputs.length > 0, 'outputs');
  for (const o of file.outputs) {
    const res = await api.request('GET', `/files/${file.id}/outputs/${o.preset}`);
    assert.equal(res.status, 200);
    const local = path.join(scratch, `check-${o.preset}`);
    await writeFile(local, Buffer.from(await res.arrayBuffer()));
    const { durationMs } = await ffprobe(local);
    assert.ok(Math.abs(durationMs - seconds * 1000) < 100, `${o.preset} is whole: ${durationMs} ms`);
    await rm(local);
  }
}

const notificationsFor = async (api: ApiClient, fileId: string) =>
  (await api.json<{ notifications: { fileId: string }[] }>('GET', '/notifications')).body.notifications.filter((n) => n.fileId === fileId).length;

describe('scale-out: a SIGKILLed worker process', { concurrency: false }, () => {
  const skip = backend.pgAdminUrl ? false : 'needs PostgreSQL (run under test/support/with-services.ts)';
  let server: TestServer;
  let api: ApiClient;
  let scratch = '';
  const workers: WorkerProcess[] = [];

  before(async () => {
    if (skip) return;
    // The web process runs no jobs; it sweeps silent workers like every process does.
    server = await startServer({ WORKER_CONCURRENCY: '0' });
    api = await ApiClient.signUp(server.url, 'killer');
    scratch = await mkdtemp(path.join(os.tmpdir(), 'reprise-kill-'));
  });

  after(async () => {
    if (skip) return;
    await Promise.all(workers.map((w) => w.stop()));
    await server.close();
    await rm(scratch, { recursive: true, force: true });
  });

  /** Two one-slot workers sharing the server's database and storage, instead of any started before. */
  const twoWorkers = async (tag: string, segmentMinSeconds: number): Promise<[WorkerProcess, WorkerProcess]> => {
    // An earlier test's worker, with another SEGMENT_MIN_SECONDS, must not take this test's job.
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const env = { ...server.env, SEGMENT_MIN_SECONDS: String(segmentMinSeconds) };
    const pair = await Promise.all([WorkerProcess.start(`${tag}-1`, env), WorkerProcess.start(`${tag}-2`, env)]);
    workers.push(...pair);
    return pair;
  };

  it('has its one-pass job run again by the other worker, completed once, with one notification', async (t) => {
    if (skip) return t.skip(skip);
    const pair = await twoWorkers('onepass', 0);
    const up = await api.upload(await fixtures.long(), { presets: 'aac-256k', name: 'One pass survivor' });
    assert.equal(up.status, 201);
    const id = up.body.id;
    const victim = await waitFor('a worker to start the job', async () => pair.find((w) => startsOf(w.lines, id, 'transcode').length > 0));
    const survivor = pair.find((w) => w !== victim)!;
    // Well into the encode, so the kill lands on a running ffmpeg.
    await fileWhen(api, id, (f) => f.status === 'running' && f.progress >= 2, 'the encode to be under way', 120_000);
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    const done = await fileWhen(api, id, (f) => f.status === 'completed', 'completion on the other worker', 180_000);
    const rerun = startsOf(survivor.lines, id, 'transcode');
    assert.equal(rerun.length, 1, 'the other worker ran the job once');
    assert.ok((rerun[0]!.attempt ?? 0) >= 2, 'as a further attempt of the same job');
    t.diagnostic(`SIGKILL → running again ${((rerun[0]!.at - killedAt) / 1000).toFixed(1)} s, → completed ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
    await assertWholeOutputs(api, done, scratch, 420);
    assert.equal(await notificationsFor(api, id), 1, 'one notification');
  });

  it('with a segment in hand costs only that segment; the file completes once and leaves no scratch', async (t) => {
    if (skip) return t.skip(skip);
    // 420 s over a 120 s threshold: 7 segments of 60 s of AAC, plus the whole part (the peaks).
    const pair = await twoWorkers('segments', 120);
    const up = await api.upload(await fixtures.long(), { presets: 'aac-256k', name: 'Segment survivor' });
    assert.equal(up.status, 201);
    const id = up.body.id;
    let finishedBeforeKill = new Set<number>();
    let killed: { victim: WorkerProcess; at: number; inHand: number } | undefined;
    const everyLine = () => pair.flatMap((w) => w.lines);
    // Killed the moment a worker starts a segment while an earlier one is already done: the
    // kill then falls between parts that must not run again and one that must.
    for (const worker of pair) {
      worker.onLine((line) => {
        if (killed || line.payload?.fileId !== id || line.job !== 'segment') return;
        if (line.msg !== 'job started' || line.payload.part === undefined) return;
        const finished = partsFinished(everyLine(), id);
        if (finished.size === 0) return;
        worker.kill('SIGKILL');
        killed = { victim: worker, at: Date.now(), inHand: line.payload.part };
        finishedBeforeKill = finished;
      });
    }
    const done = await fileWhen(api, id, (f) => f.status === 'completed' || f.status === 'failed', 'the file to end', 240_000);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.ok(killed, 'a worker was killed with a segment in hand');
    const survivor = pair.find((w) => w !== killed!.victim)!;
    const starts = startsOf(everyLine(), id, 'segment');
    const perPart = new Map<number, number>();
    for (const s of starts) perPart.set(s.payload!.part!, (perPart.get(s.payload!.part!) ?? 0) + 1);
    assert.ok(finishedBeforeKill.size > 0, 'some parts were done before the kill');
    for (const part of finishedBeforeKill) assert.equal(perPart.get(part), 1, `part ${part}, done before the kill, was not encoded again`);
    assert.equal(perPart.get(killed.inHand), 2, `the part in hand (${killed.inHand}) ran again`);
    const again = startsOf(survivor.lines, id, 'segment').filter((l) => l.payload?.part === killed!.inHand);
    assert.equal(again.length, 1, 'on the other worker');
    const split = everyLine().find((l) => l.msg === 'transcode split into parts' && (l as { fileId?: string }).fileId === id) as { parts?: number } | undefined;
    t.diagnostic(`SIGKILL → part ${killed.inHand} running again ${((again[0]!.at - killed.at) / 1000).toFixed(1)} s; parts ${[...perPart].map(([p, n]) => `${p}×${n}`).join(' ')}; planned ${split?.parts}; done before the kill ${[...finishedBeforeKill].join(',')}`);
    assert.equal(starts.length, perPart.size + 1, 'only the part in hand ran twice');
    await assertWholeOutputs(api, done, scratch, 420);
    assert.equal(await notificationsFor(api, id), 1, 'one notification');
    const left = (await listStoredBlobs(server.env, server.dataDir)).filter((k) => k.includes('segments/'));
    assert.deepEqual(left, [], 'no segment scratch in storage');
    assert.deepEqual(await readdir(path.join(survivor.dataDir, 'tmp')).catch(() => []), [], 'no scratch on the surviving worker');
  });
});
