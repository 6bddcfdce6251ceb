import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { JobQueue, JobRow, Store, TranscodeJob } from '../domain/ports.ts';
import type { Logger } from '../log.ts';
import { childrenDieWithParent } from '../media/spawn.ts';
import { isProcessAlive, processesMentioning } from '../sweep.ts';

export type JobHandler = (job: TranscodeJob, signal: AbortSignal) => Promise<unknown>;

export interface WorkerPool {
  readonly workerId: string;
  /** Stops taking jobs; running ones get `graceMs` to finish, then are aborted and handed back. */
  stop(graceMs: number): Promise<void>;
}

const HEARTBEAT_MS = 5_000;
const STALE_MS = 30_000;
const POLL_MS = 1_000;

export interface EmbeddedQueueOptions {
  /** Whether ffmpeg dies with the worker that started it (see media/spawn.ts). */
  childrenDieWithParent?: boolean;
  /** How long a job still run by a dead worker's ffmpeg waits before it is looked at again. */
  orphanRecheckMs?: number;
}

/**
 * Pids of processes still working in a scratch folder of this file (`tmp/job-<pid>-<fileId>-…`,
 * see domain/transcode.ts): an ffmpeg that outlived its worker. Empty where /proc cannot tell.
 */
async function scratchUsers(fileId: string): Promise<number[]> {
  const scratch = new RegExp(`/job-\\d+-${fileId.replace(/[^\w-]/g, '\\$&')}-[^/]*(/|$)`);
  return (await processesMentioning((ref) => scratch.test(ref))) ?? [];
}

/**
 * The embedded queue: a `jobs` table in the application's own database, claimed by in-process
 * worker pools. Workers on this host that died (SIGKILL, crash) are recognised at start by their
 * pid; workers elsewhere by a heartbeat older than 30 s.
 */
export function createEmbeddedQueue(store: Store, log: Logger, opts: EmbeddedQueueOptions = {}) {
  const tied = opts.childrenDieWithParent ?? childrenDieWithParent;
  const orphanRecheckMs = opts.orphanRecheckMs ?? 5_000;
  const wakers = new Set<() => void>();

  const queue: JobQueue = {
    async enqueue(tx, job) {
      const now = Date.now();
      await tx.jobs.insert({ fileId: job.fileId, generation: job.generation, runAt: now, createdAt: now });
      // The claim query queues behind this transaction on the database connection, so waking now is safe.
      setImmediate(() => wakers.forEach((wake) => wake()));
    },
  };

  async function releaseDeadLocalWorkers(): Promise<void> {
    const holders = await store.jobs.runningLockHolders();
    const dead = holders.filter((id) => {
      const [host, pid] = id.split(':');
      return host === os.hostname() && Number(pid) !== process.pid && !isProcessAlive(Number(pid));
    });
    const released = await store.jobs.releaseHeldBy(dead);
    if (released > 0) log.warn({ released, dead }, 'requeued jobs of workers that died');
  }

  async function startWorkers(concurrency: number, handler: JobHandler): Promise<WorkerPool> {
    const workerId = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    await releaseDeadLocalWorkers();
    const running = new Map<number, AbortController>();
    const finished = new Set<Promise<void>>();
    let stopping = false;
    let filling = false;

    const execute = async (job: JobRow, abort: AbortController) => {
      const jobLog = log.child({ jobId: job.id, fileId: job.file_id, workerId });
      try {
        // Where ffmpeg is not tied to its worker, a dead worker's ffmpeg may still be encoding
        // this file: a second run would race it for the same outputs. Wait until it has gone.
        const orphans = tied ? [] : await scratchUsers(job.file_id);
        if (orphans.length > 0) {
          jobLog.warn({ pids: orphans }, 'another process still works on this file: job waits');
          await store.jobs.release(job.id, Date.now() + orphanRecheckMs);
          return;
        }
        jobLog.info({ attempt: job.attempts }, 'job started');
        const outcome = await handler({ fileId: job.file_id, generation: job.generation }, abort.signal);
        await store.jobs.remove(job.id);
        jobLog.info({ outcome }, 'job finished');
      } catch (err) {
        // Aborted by shutdown, or the handler itself broke: hand the job back for another try.
        jobLog.warn({ err }, 'job handed back');
        await store.jobs.release(job.id, Date.now() + (abort.signal.aborted ? 0 : 5_000)).catch(() => undefined);
      } finally {
        running.delete(job.id);
      }
    };

    const fill = async () => {
      if (filling) return;
      filling = true;
      try {
        while (!stopping && running.size < concurrency) {
          const now = Date.now();
          const job = await store.jobs.claim(workerId, now, now - STALE_MS);
          if (!job) break;
          const abort = new AbortController();
          running.set(job.id, abort);
          const done = execute(job, abort).finally(() => {
            finished.delete(done);
            wake();
          });
          finished.add(done);
        }
      } catch (err) {
        log.error({ err }, 'could not claim jobs');
      } finally {
        filling = false;
      }
    };
    const wake = () => {
      if (!stopping) void fill();
    };

    wakers.add(wake);
    const poll = setInterval(wake, POLL_MS);
    const heartbeat = setInterval(() => {
      store.jobs.heartbeat([workerId], Date.now()).catch((err: unknown) => log.warn({ err }, 'heartbeat failed'));
    }, HEARTBEAT_MS);
    wake();
    log.info({ workerId, concurrency }, 'worker pool started');

    return {
      workerId,
      async stop(graceMs) {
        stopping = true;
        wakers.delete(wake);
        clearInterval(poll);
        const grace = setTimeout(() => running.forEach((abort) => abort.abort()), graceMs);
        await Promise.all(finished);
        clearTimeout(grace);
        clearInterval(heartbeat);
      },
    };
  }

  return { queue, startWorkers };
}
