import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { signUpAndLogIn } from './http.ts';
import { freePort, startNodeChild, type Child } from './proc.ts';
import { serviceEnv } from './service.ts';
import { createPrometheusExporter } from '../src/metrics/prometheus.ts';
import { median, round } from './util.ts';

const TOKEN = 'bench-metrics-token-0123456789abcdef';
/** Requests per block; blocks alternate between the two services so drift hits both alike. */
const BLOCK = 200;
const BLOCKS = 10;

export interface MetricsBenchResults {
  requestsPerService: number;
  routes: { route: string; offMedianMs: number; onMedianMs: number; medianRatio: number; offP99Ms: number; onP99Ms: number; p99Ratio: number }[];
  scrapeMedianMs: number;
  /** In-process: what recording one request's duration costs, in microseconds. */
  observeMicros: number;
  uptimeBefore: string;
  uptimeAfter: string;
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const uptime = () => {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`;
  }
};

/** One GET over a kept-alive connection; returns its latency in ms (status checked). */
function timedGet(agent: http.Agent, port: number, urlPath: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`${urlPath}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

/** The hook's own work, without HTTP around it: many observations over a realistic set of routes. */
function observeCostMicros(): number {
  const exporter = createPrometheusExporter({ jobs: async () => [], heartbeats: async () => [] });
  const routes = ['/api/v1/files', '/api/v1/files/:id', '/api/v1/presets', '/api/v1/events', 'unmatched'];
  const n = 200_000;
  const started = performance.now();
  for (let i = 0; i < n; i++) exporter.observeHttp('GET', routes[i % routes.length] ?? '', i % 7 === 0 ? 404 : 200, (i % 100) / 1000);
  return ((performance.now() - started) * 1000) / n;
}

/**
 * The cost of the metrics hooks: the same small API GETs against two services started alike, one
 * with METRICS_TOKEN (hooks on) and one without (hooks off), in alternating blocks of one run.
 */
export async function metricsBenchmark(log: (line: string) => void): Promise<MetricsBenchResults> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'reprise-bench-metrics-'));
  const children: Child[] = [];
  const uptimeBefore = uptime();
  try {
    const start = async (name: string, extra: Record<string, string>) => {
      const port = await freePort();
      const dataDir = path.join(workDir, name);
      const child = await startNodeChild(`service (${name})`, 'src/main.ts', ['serve'], { ...serviceEnv(dataDir, port, 0), LOG_LEVEL: 'warn', ...extra }, port);
      children.push(child);
      return child;
    };
    const off = await start('metrics-off', {});
    const on = await start('metrics-on', { METRICS_TOKEN: TOKEN });
    const services = [
      { name: 'off', child: off, token: await signUpAndLogIn(off.port), agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) },
      { name: 'on', child: on, token: await signUpAndLogIn(on.port), agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) },
    ];
    const routes = ['/api/v1/presets', '/api/v1/files'];
    const samples = new Map<string, number[]>();
    // Warm-up: JIT, connections, the token lookup's statement cache.
    for (const s of services) for (const r of routes) for (let i = 0; i < 100; i++) await timedGet(s.agent, s.child.port, r, { authorization: `Bearer ${s.token}` });
    for (let block = 0; block < BLOCKS; block++) {
      const order = block % 2 === 0 ? services : [...services].reverse();
      for (const s of order) {
        for (const r of routes) {
          const key = `${s.name} ${r}`;
          const list = samples.get(key) ?? [];
          for (let i = 0; i < BLOCK; i++) list.push(await timedGet(s.agent, s.child.port, r, { authorization: `Bearer ${s.token}` }));
          samples.set(key, list);
        }
      }
    }
    const scrapes: number[] = [];
    for (let i = 0; i < 50; i++) scrapes.push(await timedGet(services[1]!.agent, on.port, '/metrics', { authorization: `Bearer ${TOKEN}` }));
    for (const s of services) s.agent.destroy();

    const results = routes.map((route) => {
      const a = [...(samples.get(`off ${route}`) ?? [])].sort((x, y) => x - y);
      const b = [...(samples.get(`on ${route}`) ?? [])].sort((x, y) => x - y);
      const offMedian = median(a);
      const onMedian = median(b);
      const offP99 = percentile(a, 99);
      const onP99 = percentile(b, 99);
      log(`  GET ${route}: off median ${round(offMedian, 3)} ms p99 ${round(offP99, 3)} ms; on median ${round(onMedian, 3)} ms p99 ${round(onP99, 3)} ms`);
      return {
        route,
        offMedianMs: round(offMedian, 3),
        onMedianMs: round(onMedian, 3),
        medianRatio: round(onMedian / offMedian, 3),
        offP99Ms: round(offP99, 3),
        onP99Ms: round(onP99, 3),
        p99Ratio: round(onP99 / offP99, 3),
      };
    });
    const observeMicros = round(observeCostMicros(), 3);
    return { requestsPerService: BLOCK * BLOCKS * routes.length, routes: results, scrapeMedianMs: round(median(scrapes), 3), observeMicros, uptimeBefore, uptimeAfter: uptime() };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await rm(workDir, { recursive: true, force: true });
  }
}

export function reportMetrics(r: MetricsBenchResults, log: (line: string) => void): MetricsBenchResults {
  log('');
  log('Metrics hooks (issue 13): the same GETs with METRICS_TOKEN set (on) and unset (off), alternating blocks');
  for (const route of r.routes) log(`  GET ${route.route}: median on/off ${route.medianRatio} (${route.onMedianMs} / ${route.offMedianMs} ms), p99 on/off ${route.p99Ratio}`);
  log(`  GET /metrics itself: median ${r.scrapeMedianMs} ms; recording one request's duration (in-process): ${r.observeMicros} µs`);
  log(`  uptime before: ${r.uptimeBefore}`);
  log(`  uptime after:  ${r.uptimeAfter}`);
  return r;
}
