import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { apiJson, multipartBody, postStream } from './http.ts';
import { generatedWav } from './input.ts';
import { freePort, startNodeChild } from './proc.ts';
import { serviceEnv } from './service.ts';
import { openEventStream, type EventStream } from './sse.ts';
import { isRecord, readRssKiB, round, RssSampler, sleep } from './util.ts';

const USERS = 50;
const STREAMS_PER_USER = 20;
const UPLOADS_PER_USER = 4;
/** Two seconds of CD audio: a small file, so 200 arrive at once and their jobs stay short. */
const INPUT_BYTES = 2 * 44_100 * 4;
const DONE_TIMEOUT_MS = 15 * 60_000;

interface User {
  token: string;
  cookie: string;
  files: string[];
  /** For each of the user's streams: notification.created events seen, by file id. */
  streams: Map<string, number>[];
}

export interface LoadRun {
  idle: { apiMs: number[]; pageMs: number[] };
  loaded: { apiMs: number[]; pageMs: number[] };
  statuses: Record<string, number>;
  serverErrors: number;
  lost: number;
  duplicates: number;
  streamsOpen: number;
  rssKiB: { started: number; withStreams: number; peak: number; after: number };
  allDoneMs: number;
  load: string;
}

const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');
const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

async function signIn(port: number): Promise<{ token: string; cookie: string }> {
  const credentials = { username: `load-${randomBytes(4).toString('hex')}`, password: randomBytes(12).toString('hex') };
  await apiJson(port, 'POST', '/accounts', { body: credentials, expect: 201 });
  const { token } = await apiJson(port, 'POST', '/tokens', { body: credentials, expect: 201 });
  // A browser's session as well, for timing the pages: the sign-in form with its CSRF token.
  const base = `http://127.0.0.1:${port}`;
  const form = await fetch(`${base}/login`);
  const jar = form.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const signedIn = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...credentials, _csrf: csrf }),
  });
  const cookie = signedIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') || jar;
  if (typeof token !== 'string' || signedIn.status !== 303) throw new Error(`sign-in failed (${signedIn.status})`);
  return { token, cookie };
}

/** One API read and one page, timed, in turn, until told to stop. */
async function probe(port: number, users: User[], into: { apiMs: number[]; pageMs: number[] }, statuses: Record<string, number>, until: () => boolean) {
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; !until(); i++) {
    const user = users[i % users.length] as User;
    for (const [kind, url, headers] of [
      ['apiMs', `${base}/api/v1/files`, { authorization: `Bearer ${user.token}` }],
      ['pageMs', `${base}/files`, { cookie: user.cookie }],
    ] as const) {
      const started = performance.now();
      const res = await fetch(url, { headers, redirect: 'manual' });
      await res.arrayBuffer();
      into[kind].push(performance.now() - started);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
    await sleep(20);
  }
}

/**
 * Issue 13's hostile-load figures: 50 users hold 1,000 event streams while they upload 200 files
 * at once and the jobs complete. Counts 5xx answers and lost or duplicate notifications (every
 * stream must see each of its owner's jobs end exactly once), times an API read and a page
 * before and during the load (the before figures are the baseline), and samples the RSS.
 */
export async function loadBenchmark(workDir: string, log: (line: string) => void): Promise<LoadRun> {
  const dataDir = path.join(workDir, 'load-service-data');
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const env = { ...serviceEnv(dataDir, port, 2), EVENT_STREAMS_PER_USER: String(STREAMS_PER_USER + 5), API_RATE_LIMIT: '0', LOGIN_RATE_LIMIT: '100000', SIGNUP_RATE_LIMIT: '100000' };
  const child = await startNodeChild('service (WORKER_CONCURRENCY=2)', 'src/main.ts', ['serve'], env, port);
  const streams: EventStream[] = [];
  const statuses: Record<string, number> = {};
  try {
    const users: User[] = [];
    for (let i = 0; i < USERS; i++) users.push({ ...(await signIn(port)), files: [], streams: [] });
    const started = readRssKiB(child.pid);
    const idle = { apiMs: [] as number[], pageMs: [] as number[] };
    const idleUntil = performance.now() + 5_000;
    await probe(port, users, idle, statuses, () => performance.now() > idleUntil);

    for (const user of users) {
      for (let s = 0; s < STREAMS_PER_USER; s++) {
        const seen = new Map<string, number>();
        user.streams.push(seen);
        const onEvent = (e: { type: string; data: string }) => {
          if (e.type !== 'notification.created') return;
          const data: unknown = JSON.parse(e.data);
          const fileId = isRecord(data) && typeof data.fileId === 'string' ? data.fileId : '?';
          seen.set(fileId, (seen.get(fileId) ?? 0) + 1);
        };
        streams.push(await openEventStream(port, user.token, onEvent, 30_000));
      }
    }
    const withStreams = readRssKiB(child.pid);
    log(`  ${USERS} users, ${streams.length} event streams open; RSS ${Math.round(started / 1024)} → ${Math.round(withStreams / 1024)} MiB`);

    const sampler = new RssSampler(child.pid, 20);
    sampler.start();
    const loaded = { apiMs: [] as number[], pageMs: [] as number[] };
    let allDone = false;
    const probing = probe(port, users, loaded, statuses, () => allDone);
    const t0 = performance.now();
    const uploads = users.flatMap((user) =>
      Array.from({ length: UPLOADS_PER_USER }, async () => {
        const posted = await postStream(port, '/api/v1/files', multipartBody({ presets: 'mp3-128k' }, generatedWav(INPUT_BYTES)), { authorization: `Bearer ${user.token}` }, DONE_TIMEOUT_MS).catch(
          () => ({ status: 'no answer', body: undefined }) as const,
        );
        statuses[posted.status] = (statuses[posted.status] ?? 0) + 1;
        if (posted.status === 201 && isRecord(posted.body) && typeof posted.body.id === 'string') user.files.push(posted.body.id);
      }),
    );
    await Promise.all(uploads);
    log(`  ${USERS * UPLOADS_PER_USER} uploads answered in ${Math.round(performance.now() - t0)} ms (load ${loadavg()})`);
    // Done when every stream has heard of every one of its owner's jobs.
    const everyStreamHeard = () => users.every((u) => u.streams.every((seen) => u.files.every((f) => seen.has(f))));
    const deadline = performance.now() + DONE_TIMEOUT_MS;
    while (!everyStreamHeard() && performance.now() < deadline) await sleep(100);
    const allDoneMs = performance.now() - t0;
    allDone = true;
    await probing;
    // Late duplicates would arrive now, if any.
    await sleep(3_000);
    const rss = sampler.stop();
    let lost = 0;
    let duplicates = 0;
    for (const u of users) {
      for (const seen of u.streams) {
        for (const f of u.files) {
          const n = seen.get(f) ?? 0;
          if (n === 0) lost++;
          if (n > 1) duplicates += n - 1;
        }
        // A notification about someone else's file is a leak, counted with the duplicates.
        for (const f of seen.keys()) if (!u.files.includes(f)) duplicates++;
      }
    }
    // A connection dropped without an answer counts as a server error too.
    const serverErrors = Object.entries(statuses).filter(([s]) => !(Number(s) < 500)).reduce((sum, [, n]) => sum + n, 0);
    const load = loadavg();
    for (const s of streams) s.close();
    await sleep(1_000);
    const after = readRssKiB(child.pid);
    return { idle, loaded, statuses, serverErrors, lost, duplicates, streamsOpen: streams.length, rssKiB: { started, withStreams, peak: rss.kernelPeakKiB ?? rss.peakKiB, after }, allDoneMs, load };
  } finally {
    for (const s of streams) s.close();
    await child.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export function reportLoad(run: LoadRun, log: (line: string) => void) {
  const figure = (values: number[]) => ({ p50: round(pct(values, 50), 1), p99: round(pct(values, 99), 1), n: values.length });
  const idle = { api: figure(run.idle.apiMs), page: figure(run.idle.pageMs) };
  const loaded = { api: figure(run.loaded.apiMs), page: figure(run.loaded.pageMs) };
  const mib = (kib: number) => Math.round(kib / 1024);
  log('');
  log(`Hostile load (issue 13): ${USERS} users, ${run.streamsOpen} event streams, ${USERS * UPLOADS_PER_USER} uploads at once, jobs completing`);
  log(`  5xx answers: ${run.serverErrors}; lost notifications: ${run.lost}; duplicate or foreign: ${run.duplicates}; statuses ${JSON.stringify(run.statuses)}`);
  log(`  API read p50/p99: idle ${idle.api.p50}/${idle.api.p99} ms, loaded ${loaded.api.p50}/${loaded.api.p99} ms (p99 ratio ${round(loaded.api.p99 / idle.api.p99, 2)})`);
  log(`  files page p50/p99: idle ${idle.page.p50}/${idle.page.p99} ms, loaded ${loaded.page.p50}/${loaded.page.p99} ms (p99 ratio ${round(loaded.page.p99 / idle.page.p99, 2)})`);
  log(`  RSS: ${mib(run.rssKiB.started)} MiB idle, ${mib(run.rssKiB.withStreams)} MiB with the streams, peak ${mib(run.rssKiB.peak)} MiB, ${mib(run.rssKiB.after)} MiB after`);
  log(`  every stream heard every job end after ${Math.round(run.allDoneMs / 1000)} s; load average ${run.load}`);
  return { idle, loaded, serverErrors: run.serverErrors, lost: run.lost, duplicates: run.duplicates, statuses: run.statuses, rssMiB: Object.fromEntries(Object.entries(run.rssKiB).map(([k, v]) => [k, mib(v)])), allDoneSeconds: round(run.allDoneMs / 1000, 1), load: run.load };
}
