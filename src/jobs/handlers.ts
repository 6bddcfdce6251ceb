import { decodeJob, InvalidJob, isJobName, type Job, type JobName, type JobPayload } from './definitions.ts';

export interface JobContext {
  /** Aborted when the process shuts down (the job is handed back) or the job is canceled. */
  signal: AbortSignal;
  /** How many times this job has been started, this one included. */
  attempt: number;
  /** When the job became runnable (epoch ms), where the queue knows: the start of its queue wait. */
  runnableSince?: number;
}

export type JobHandler<N extends JobName> = (payload: JobPayload<N>, ctx: JobContext) => Promise<unknown>;

/** One handler per job name: leaving one out is a compile error. */
export type JobHandlers = { [N in JobName]: JobHandler<N> };

/** What a queue backend calls with a job it took: name and payload still unchecked. */
export type RunJob = (name: string, payload: unknown, ctx: JobContext) => Promise<unknown>;

/**
 * Validates what came off the queue and calls its handler. An invalid job is not retried —
 * retrying cannot make it valid — so it is thrown as InvalidJob for the backend to drop and log.
 */
export function dispatcher(handlers: JobHandlers): RunJob {
  return (name, payload, ctx) => {
    const job: Job = decodeJob(name, payload);
    // The map is keyed by the same union, so this lookup cannot miss; TypeScript cannot relate
    // the handler's parameter to the payload through the union, hence the narrow cast.
    const handler = handlers[job.name] as JobHandler<typeof job.name>;
    return handler(job.payload, ctx);
  };
}

/**
 * Start-up check: every job name present in a queue must have a handler in this version. A
 * queue written by a newer version (or a typo in a manual insert) stops start-up with one line
 * instead of failing those jobs one by one.
 */
export function unhandledNames(namesInQueue: readonly string[], handlers: JobHandlers): string[] {
  return namesInQueue.filter((name) => !isJobName(name) || typeof handlers[name] !== 'function');
}

export { InvalidJob };
