import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Metrics } from '../domain/metrics-port.ts';
import type { Readings } from './readings.ts';

/** The Prometheus side of the metrics port, plus what only the web layer records and serves. */

/** Own presets (u-<uuid>) count together as "own": one label value per user preset would grow without bound. */
const presetLabel = (id: string) => (id.startsWith('u-') ? 'own' : id);

export interface MetricsExporter {
  /** Handed to domain and web code through deps. */
  readonly port: Metrics;
  /** One answered HTTP request; `route` is the route's pattern, never the URL. */
  observeHttp(method: string, route: string, status: number, seconds: number): void;
  /** The text exposition, with the database readings taken now. */
  render(): Promise<string>;
  readonly contentType: string;
}

const PREFIX = 'reprise_';

/**
 * A registry of this process's own: counters and histograms count what happened here, so with
 * several web and worker processes each is scraped on its own and Prometheus adds them up. The
 * database gauges (queued and running jobs, heartbeats) read shared state and are the same from
 * every process.
 */
export function createPrometheusExporter(readings: Readings, now: () => number = Date.now): MetricsExporter {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const queued = new Gauge({ name: `${PREFIX}jobs_queued`, help: 'Transcode jobs waiting, counted under each preset they will produce.', labelNames: ['preset'], registers });
  const running = new Gauge({ name: `${PREFIX}jobs_running`, help: 'Transcode jobs running, counted under each preset they produce.', labelNames: ['preset'], registers });
  const completed = new Counter({ name: `${PREFIX}jobs_completed_total`, help: 'Transcode jobs completed in this process, counted under each preset they produced.', labelNames: ['preset'], registers });
  const failed = new Counter({ name: `${PREFIX}jobs_failed_total`, help: 'Transcode jobs failed in this process, counted under each preset they were asked for.', labelNames: ['preset'], registers });
  const duration = new Histogram({
    name: `${PREFIX}job_duration_seconds`,
    help: 'Time from a transcode job starting to its end, by outcome (its _count is the number of jobs).',
    labelNames: ['outcome'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 14400],
    registers,
  });
  const wait = new Histogram({
    name: `${PREFIX}job_queue_wait_seconds`,
    help: 'Time a job waited between becoming runnable and a worker taking it, by job name.',
    labelNames: ['job'],
    buckets: [0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600, 14400],
    registers,
  });
  const uploaded = new Counter({ name: `${PREFIX}upload_bytes_total`, help: 'Bytes of uploads stored by this process.', registers });
  const streams = new Gauge({ name: `${PREFIX}event_streams_open`, help: 'Server-Sent Event streams open in this process.', registers });
  const deliveries = new Counter({ name: `${PREFIX}webhook_deliveries_total`, help: 'Webhook delivery attempts made by this process.', registers });
  const deliveryFailures = new Counter({ name: `${PREFIX}webhook_delivery_failures_total`, help: 'Webhook delivery attempts without a 2xx answer (error, timeout, other status).', registers });
  const heartbeatAge = new Gauge({ name: `${PREFIX}worker_heartbeat_age_seconds`, help: "Seconds since each worker's last heartbeat, as the job queue keeps it.", labelNames: ['worker'], registers });
  const http = new Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: 'HTTP requests answered by this process, by route pattern (unmatched: every request no route matched).',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    registers,
  });

  const port: Metrics = {
    jobStarted: (job, waitSeconds) => wait.observe({ job }, Math.max(0, waitSeconds)),
    jobEnded(presets, outcome, seconds) {
      duration.observe({ outcome }, seconds);
      const counter = outcome === 'completed' ? completed : outcome === 'failed' ? failed : undefined;
      for (const preset of presets) counter?.inc({ preset: presetLabel(preset) });
    },
    uploadBytes: (bytes) => uploaded.inc(bytes),
    webhookDelivered(ok) {
      deliveries.inc();
      if (!ok) deliveryFailures.inc();
    },
    eventStreams: (change) => streams.inc(change),
  };

  /** Replaces the database gauges with what the database says now (series of vanished workers go). */
  async function readDatabase(): Promise<void> {
    const [jobs, beats] = await Promise.all([readings.jobs(), readings.heartbeats()]);
    queued.reset();
    running.reset();
    for (const row of jobs) {
      for (const preset of row.presets) (row.status === 'queued' ? queued : running).inc({ preset: presetLabel(preset) }, row.count);
    }
    heartbeatAge.reset();
    const at = now();
    for (const beat of beats) heartbeatAge.set({ worker: beat.worker }, Math.max(0, (at - beat.lastSeen) / 1000));
  }

  return {
    port,
    observeHttp: (method, route, status, seconds) => http.observe({ method, route, status_code: String(status) }, seconds),
    async render() {
      await readDatabase();
      return registry.metrics();
    },
    contentType: registry.contentType,
  };
}
