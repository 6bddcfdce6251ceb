import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Kysely } from 'kysely';
import type { Database, JobRow } from '../db/schema.ts';
import type { JobsWithin } from '../db/store.ts';
import { decodeJob, InvalidJob, jobNames, type Job } from '../jobs/definitions.ts';
import type { RunJob } from '../jobs/handlers.ts';
import type { Logger } from '../log.ts';
import { childrenDieWithParent } from '../media/spawn.ts';
import { isProcessAlive, processesMentioning } from '../sweep.ts';
import { jobTable, type JobTable } from './embedded-table.ts';
import { encodeSlots, runningCap } from './running-cap.ts';
import { QUEUE_PAUSED } from '../domain/queue-control.ts';
import { VERSION } from '../version.ts';

export interface WorkerPool {
  readonly workerId: string;
  /** Stops taking jobs; running ones get `graceMs` to finish, then are aborted and handed back. */
  stop(graceMs: number): Promise<void>;
}

/**
 * A job's heartbeat, every 2 s. A holder on this host is judged by its pid at each beat, so a
 * SIGKILLed local worker's jobs are free again within ~2 s; a holder on another host (a shared
 * database file) by a heartbeat older than 30 s. That window stays wide because these beats run
 * on the main thread, which a long synchronous join can hold up for seconds.
 */
const HEARTBEAT_MS = 2_000;
const STALE_MS = 30_000;
const POLL_MS = 1_000;

export interface EmbeddedQueueOptions {
  /** Whether ffmpeg dies with the worker that started it (see media/spawn.ts). */
  childrenDieWithParent?: boolean;
  /** How long a job still run by a dead worker's ffmpeg waits before it is looked at again. */
  orphanRecheckMs?: number;
  /** The table's protocol; tests pass an in-memory one. */
  table?: JobTable;
  /** Pids still working on a job's behalf (default: processes in a transcode's scratch). */
  orphansOf?: (job: Job) => Promise<number[]>;
  /** USER_MAX_RUNNING: the per-user cap on running jobs (0: half the live slots, at least 1). */
  userMaxRunning?: number;
}

/**
 * Whether an administrator paused claiming (a row any process may write). Read before every
 * claim; a database that cannot answer counts as not paused, since the claim would fail anyway.
 */
const pausedIn = (db: Kysely<Database>) => async () => {
  try {
    return (await db.selectFrom('instance_state').select('name').where('name', '=', QUEUE_PAUSED).executeTakeFirst()) !== undefined;
  } catch {
    return false;
  }
};

/** Each pool keeps a heartbeat row, as graphile-worker pools do, so the admin area lists it busy or idle. */
function heartbeatRow(db: Kysely<Database>, workerId: string, slots: number) {
  const [host = '', pid = '0'] = workerId.split(':');
  return {
    beat: async (now: number) =>
      db
        .insertInto('worker_heartbeats')
        .values({ pool_id: workerId, host, pid: Number(pid), last_seen: now, version: VERSION, slots })
        .onConflict((oc) => oc.column('pool_id').doUpdateSet({ last_seen: now }))
        .execute(),
    remove: async () => db.deleteFrom('worker_heartbeats').where('pool_id', '=', workerId).execute(),
    /** Rows of pools that died without removing theirs (SIGKILL): kept a day for the admin area, then dropped. */
    forgetOld: async (now: number) => db.deleteFrom('worker_heartbeats').where('last_seen', '<', now - 86_400_000).execute(),
  };
}

/** Only transcodes start ffmpeg; other jobs never wait for an orphan. */
const orphansOf = (job: Job) => (job.name === 'transcode' ? scratchUsers(job.payload.fileId) : Promise.resolve([]));

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
 * worker pools. Workers on this host that died (SIGKILL, crash) are recognised by their pid, at
 * start and at every heartbeat; workers elsewhere by a heartbeat older than 30 s.
 */
export function createEmbeddedQueue(db: Kysely<Database>, log: Logger, opts: EmbeddedQueueOptions = {}) {
  const table = opts.table ?? jobTable(db);
  const tied = opts.childrenDieWithParent ?? childrenDieWithParent;
  const orphanRecheckMs = opts.orphanRecheckMs ?? 5_000;
  const wakers = new Set<() => void>();
  const paused = pausedIn(db);

  /** Enqueues through the handle the store passes: its open transaction, or the database itself. */
  const jobsWithin: JobsWithin = (handle) => ({
    async enqueue(job, options = {}) {
      const now = Date.now();
      await table.insert(handle, { name: job.name, payload: job.payload, key: options.key ?? null, runAt: options.runAt ?? now, createdAt: now, priority: options.priority ?? 0, owner: options.owner ?? null });
      // The claim query queues behind this transaction on the database connection, so waking now is safe.
      setImmediate(() => wakers.forEach((wake) => wake()));
    },
    async removeQueued(key) {
      await table.removeQueued(handle, key);
    },
  });

  async function releaseDeadLocalWorkers(): Promise<void> {
    const holders = await table.runningLockHolders();
    const dead = holders.filter((id) => {
      const [host, pid] = id.split(':');
      return host === os.hostname() && Number(pid) !== process.pid && !isProcessAlive(Number(pid));
    });
    const released = await table.releaseHeldBy(dead);
    if (released > 0) log.warn({ released, dead }, 'requeued jobs of workers that died');
  }

  /** A pool of `concurrency` slots taking only jobs named in `names` (separate pools cannot starve each other). */
  async function startWorkers(concurrency: number, runJob: RunJob, names: readonly string[] = jobNames): Promise<WorkerPool> {
    const workerId = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    await releaseDeadLocalWorkers();
    const running = new Map<number, AbortController>();
    const finished = new Set<Promise<void>>();
    let stopping = false;
    let filling = false;
    const slots = encodeSlots(concurrency, names);
    // Pools of every process sharing the database count, as long as they heartbeat; this pool's
    // own slots count even before its first row is read back.
    const currentCap = async (now: number) => runningCap(opts.userMaxRunning ?? 0, Math.max(slots, await table.liveSlots(now - STALE_MS)));

    const execute = async (row: JobRow, abort: AbortController) => {
      const jobLog = log.child({ jobId: row.id, job: row.name, workerId });
      try {
        const job = decodeJob(row.name, JSON.parse(row.payload) as unknown);
        // Where ffmpeg is not tied to its worker, a dead worker's ffmpeg may still be encoding
        // this file: a second run would race it for the same outputs. Wait until it has gone.
        const orphans = tied ? [] : await (opts.orphansOf ?? orphansOf)(job);
        if (orphans.length > 0) {
          jobLog.warn({ pids: orphans }, 'another process still works on this job: it waits');
          await table.release(row.id, Date.now() + orphanRecheckMs);
          return;
        }
        jobLog.info({ attempt: row.attempts, payload: job.payload }, 'job started');
        const outcome = await runJob(job.name, job.payload, { signal: abort.signal, attempt: row.attempts, runnableSince: row.run_at });
        await table.remove(row.id);
        jobLog.info({ outcome }, 'job finished');
      } catch (err) {
        if (err instanceof InvalidJob || err instanceof SyntaxError) {
          // Retrying cannot make a malformed job valid: drop it, loudly.
          jobLog.error({ err, payload: row.payload.slice(0, 500) }, 'invalid job dropped');
          await table.remove(row.id).catch(() => undefined);
          return;
        }
        // Aborted by shutdown, or the handler itself broke: hand the job back for another try.
        jobLog.warn({ err }, 'job handed back');
        await table.release(row.id, Date.now() + (abort.signal.aborted ? 0 : 5_000)).catch(() => undefined);
      } finally {
        running.delete(row.id);
      }
    };

    const fill = async () => {
      if (filling) return;
      filling = true;
      try {
        while (!stopping && running.size < concurrency) {
          if (await paused()) break;
          const now = Date.now();
          const job = await table.claim(workerId, now, now - STALE_MS, names, await currentCap(now));
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
    const row = heartbeatRow(db, workerId, slots);
    const beatRow = () => row.beat(Date.now()).catch((err: unknown) => log.warn({ err }, 'worker heartbeat row failed'));
    await row.forgetOld(Date.now()).catch(() => undefined);
    await beatRow();
    const heartbeat = setInterval(() => {
      table.heartbeat([workerId], Date.now()).catch((err: unknown) => log.warn({ err }, 'heartbeat failed'));
      void beatRow();
      releaseDeadLocalWorkers().then(wake, (err: unknown) => log.warn({ err }, 'could not look for dead workers'));
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
        await row.remove().catch(() => undefined);
      },
    };
  }

  /** Wakes this process's pools at once (others poll every second). */
  const wakeAll = () => wakers.forEach((wake) => wake());
  return { jobsWithin, startWorkers, names: () => table.names(), wakeAll };
}
