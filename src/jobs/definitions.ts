import { z } from 'zod';

/**
 * Every kind of background job, by name, with the one payload shape it carries. A payload is
 * validated where it leaves a queue: rows written by an older or newer version, or by hand, are
 * refused with a clear log line instead of reaching a handler half-formed.
 */
export const jobPayloads = {
  /** Transcode one generation of a file (a retry is a new generation). */
  transcode: z.object({ fileId: z.string().min(1), generation: z.number().int().positive() }),
  /** One attempt at one webhook delivery; a failed attempt enqueues the next itself. */
  'webhook.deliver': z.object({ deliveryId: z.string().min(1) }),
  /** One attempt at mailing one notification to its owner; a failed attempt enqueues the next itself. */
  'mail.send': z.object({ notificationId: z.string().min(1) }),
  /** Notify owners of files due for deletion within a day and delete those past due; schedules the next run. */
  'retention.sweep': z.object({}),
  /** One part of a segmented transcode (issue 12): a segment of one preset, or the one-pass rest. */
  segment: z.object({ fileId: z.string().min(1), generation: z.number().int().positive(), part: z.number().int().min(0) }),
  /** Joins a segmented transcode's parts into the file's outputs, once every part is done. */
  'segment.join': z.object({ fileId: z.string().min(1), generation: z.number().int().positive() }),
} as const;

export type JobName = keyof typeof jobPayloads;
export type JobPayload<N extends JobName> = z.infer<(typeof jobPayloads)[N]>;

/** A job as it enters or leaves a queue: its name and a payload of that name's shape. */
export type Job = { [N in JobName]: { name: N; payload: JobPayload<N> } }[JobName];

export const jobNames = Object.keys(jobPayloads) as JobName[];

export const isJobName = (name: string): name is JobName => Object.hasOwn(jobPayloads, name);

export class InvalidJob extends Error {
  constructor(readonly jobName: string, reason: string) {
    super(`job "${jobName}": ${reason}`);
    this.name = 'InvalidJob';
  }
}

/** Checks a name and payload taken off a queue; throws InvalidJob when either is wrong. */
export function decodeJob(name: string, payload: unknown): Job {
  if (!isJobName(name)) throw new InvalidJob(name, 'no such job type in this version');
  const parsed = jobPayloads[name].safeParse(payload);
  if (!parsed.success) throw new InvalidJob(name, `bad payload (${parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ')})`);
  return { name, payload: parsed.data } as Job;
}

/** Options of one enqueue. */
export interface EnqueueOptions {
  /** Not before this time (ms since epoch); default now. */
  runAt?: number;
  /**
   * A job with the same key that has not started yet is replaced rather than added: a second
   * enqueue for the same thing (a retried transaction, a double click) is one job.
   */
  key?: string;
  /**
   * Lower runs first (default 0). Transcodes get the number of their owner's files already
   * waiting or running, so jobs interleave across users instead of first come, first served.
   */
  priority?: number;
  /**
   * The user whose work this is: transcodes and the parts and join of a segmented one. Owned
   * jobs fall under the per-user cap on running jobs (decision 0024); unowned ones never do.
   */
  owner?: string;
}

/** The key a delivery's attempts run under: a replay cannot double a pending attempt. */
export const deliveryKey = (p: JobPayload<'webhook.deliver'>) => `webhook:${p.deliveryId}`;

/** The key a transcode job runs under: one per file generation. */
export const transcodeKey = (p: JobPayload<'transcode'>) => `transcode:${p.fileId}:g${p.generation}`;

/** The key a notification's mail attempts run under: one pending attempt per notification. */
export const mailKey = (p: JobPayload<'mail.send'>) => `mail:${p.notificationId}`;
/** The key every retention sweep runs under: at most one waits in the queue. */
export const RETENTION_SWEEP_KEY = 'retention:sweep';
/** The key a part of a segmented transcode runs under: a cancel can drop it before it starts. */
export const segmentKey = (p: JobPayload<'segment'>) => `segment:${p.fileId}:g${p.generation}:p${p.part}`;

/** The key of a segmented transcode's join: one per file generation. */
export const segmentJoinKey = (p: JobPayload<'segment.join'>) => `segment.join:${p.fileId}:g${p.generation}`;

/** The jobs that encode: they share the transcode slots. */
export const transcodeJobNames = ['transcode', 'segment', 'segment.join'] as const satisfies readonly JobName[];
