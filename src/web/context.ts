import type { AccountDeps } from '../domain/accounts.ts';
import type { Deps, QueueAdmin } from '../domain/ports.ts';
import type { MetricsExporter } from '../metrics/prometheus.ts';
import type { ResumableBackend } from '../uploads/resumable-store.ts';

/** What the web layer needs from the composition root, and nothing more. */
export interface WebContext {
  deps: Deps;
  accountDeps: AccountDeps;
  /** Where unfinished resumable uploads live. */
  resumable: ResumableBackend;
  /** The queue backend's part of the admin area. */
  queueAdmin: QueueAdmin;
  /** Prometheus metrics; absent without METRICS_TOKEN (then /metrics is 404). */
  metrics: MetricsExporter | undefined;
  /** Database and storage reachable: what /readyz reports. */
  ready(): Promise<{ database: boolean; storage: boolean }>;
}
