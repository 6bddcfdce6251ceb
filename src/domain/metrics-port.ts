/**
 * What the service reports for an operator's metrics. Domain and web code call these methods;
 * only the composition root knows what records them (Prometheus, or nothing), so no metrics
 * library leaks into the domain.
 */
export type JobEnd = 'completed' | 'failed' | 'canceled';

export interface Metrics {
  /** A job was taken off the queue after waiting `waitSeconds` since it became runnable. */
  jobStarted(job: string, waitSeconds: number): void;
  /** A transcode ended; `presets` are the outputs it was asked for. */
  jobEnded(presets: readonly string[], outcome: JobEnd, seconds: number): void;
  /** An upload's bytes were stored (multipart or a finished resumable upload). */
  uploadBytes(bytes: number): void;
  /** One webhook attempt: `ok` when the receiver answered 2xx. */
  webhookDelivered(ok: boolean): void;
  /** An event stream opened (+1) or closed (-1). */
  eventStreams(change: 1 | -1): void;
}

/** Records nothing: for processes without METRICS_TOKEN and for tests that do not look. */
export const noopMetrics: Metrics = {
  jobStarted() {},
  jobEnded() {},
  uploadBytes() {},
  webhookDelivered() {},
  eventStreams() {},
};
