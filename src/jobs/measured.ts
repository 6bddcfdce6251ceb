import { performance } from 'node:perf_hooks';
import type { Metrics } from '../domain/metrics-port.ts';
import type { Deps, TranscodeJob } from '../domain/ports.ts';
import { runTranscodeJob } from '../domain/transcode.ts';
import type { JobContext, RunJob } from './handlers.ts';

/** Reports each job's queue wait as a worker takes it, for every job name and both queues. */
export function measuredRun(run: RunJob, metrics: Metrics, now: () => number = Date.now): RunJob {
  return (name, payload, ctx) => {
    if (ctx.runnableSince !== undefined) metrics.jobStarted(name, (now() - ctx.runnableSince) / 1000);
    return run(name, payload, ctx);
  };
}

/**
 * The transcode job with its end reported: duration by outcome, and the completed or failed count
 * under each preset the job made. A job handed back (shutdown) has not ended and is not
 * counted; one that found nothing to do ('skipped') neither.
 */
export async function measuredTranscode(deps: Deps, payload: TranscodeJob, ctx: JobContext): Promise<unknown> {
  const file = await deps.store.files.findById(payload.fileId);
  const started = performance.now();
  const outcome = await runTranscodeJob(deps, payload, { signal: ctx.signal });
  if (outcome !== 'skipped' && outcome !== 'split') {
    // A later run of some outputs counts under the presets it made, not every one the file has.
    const presets = file?.run_presets ?? file?.presets ?? [];
    deps.metrics.jobEnded(presets, outcome, (performance.now() - started) / 1000);
  }
  return outcome;
}
