import { EventEmitter } from 'node:events';
import os from 'node:os';
import { Logger as GraphileLogger, run, runMigrations, type Runner, type WorkerEvents } from 'graphile-worker';
import { sql } from 'kysely';
import type pg from 'pg';
import type { JobsWithin } from '../db/store.ts';
import { InvalidJob, jobNames } from '../jobs/definitions.ts';
import type { RunJob } from '../jobs/handlers.ts';
import type { Logger } from '../log.ts';
import type { WorkerPool } from './embedded.ts';
import { SILENT_AFTER_MS, startLiveness, wakeIdleWorkers, type Liveness } from './liveness.ts';
import { cappedOwnerFlags } from './graphile-cap.ts';
import { encodeSlots, ownerFlag } from './running-cap.ts';
import { PAUSABLE_FLAG, QUEUE_PAUSED } from '../domain/queue-control.ts';

/**
 * The scale-out queue: graphile-worker on the application's PostgreSQL. Jobs are added with
 * `graphile_worker.add_job` inside the caller's transaction, so a file row and its job commit
 * together. The job key (file + generation) makes a duplicate enqueue replace, not add.
 */
/** How long a finished job's lingering lock is discounted (its completion commits well within this). */
const FINISHED_KEPT_MS = 10_000;

export function createGraphileQueue(pool: pg.Pool, log: Logger, opts: { userMaxRunning?: number } = {}) {
  /** Encode slots of this process's pools: they count before their heartbeat rows are read back. */
  let localSlots = 0;
  /** Jobs whose task returned here lately, by id, with when: see cappedOwnerFlags. */
  const finished = new Map<string, number>();
  const recentlyFinished = () => {
    for (const [id, at] of finished) if (at < Date.now() - FINISHED_KEPT_MS) finished.delete(id);
    return [...finished.keys()];
  };

  /** Adds and removes jobs with SQL on the handle the store passes: its open transaction, or the database. */
  const jobsWithin: JobsWithin = (handle) => ({
    async enqueue(job, options = {}) {
      const runAt = options.runAt === undefined ? null : new Date(options.runAt).toISOString();
      // Flags are the only per-job field a fetch can skip on: the owner rides there (decision 0024).
      const flags = options.owner === undefined ? [PAUSABLE_FLAG] : [PAUSABLE_FLAG, ownerFlag(options.owner)];
      await sql`SELECT graphile_worker.add_job(${job.name}, ${JSON.stringify(job.payload)}::json, job_key := ${options.key ?? null}, run_at := ${runAt}::timestamptz, max_attempts := 25, priority := ${options.priority ?? 0}::int, flags := ${flags}::text[])`.execute(
        handle,
      );
    },
    async removeQueued(key) {
      // remove_job deletes an unlocked job; a running one is left to notice on its own.
      await sql`SELECT graphile_worker.remove_job(${key})`.execute(handle);
    },
  });

  /** Task names present in the queue, for the start-up check that each has a handler. */
  const names = async () =>
    (await pool.query<{ task_identifier: string }>('SELECT DISTINCT task_identifier FROM graphile_worker.jobs')).rows.map((r) => r.task_identifier);

  /**
   * graphile-worker asks before each fetch. While an administrator has paused claiming, workers
   * skip every job flagged pausable (all jobs added by this version). Otherwise they skip the
   * jobs of users at their running cap, but only while a user below it has a job waiting. A
   * database that cannot answer forbids nothing, since the fetch would fail anyway.
   */
  const forbiddenFlags = async (): Promise<string[] | null> => {
    const paused = await pool.query('SELECT 1 FROM instance_state WHERE name = $1', [QUEUE_PAUSED]).then((r) => r.rowCount !== 0, () => false);
    if (paused) return [PAUSABLE_FLAG];
    const capped = await cappedOwnerFlags(pool, { setting: opts.userMaxRunning ?? 0, localSlots, liveSince: Date.now() - SILENT_AFTER_MS, finished: recentlyFinished() }).catch((err: unknown) => {
      log.warn({ err }, 'could not read the per-user running cap');
      return [];
    });
    return capped.length > 0 ? capped : null;
  };

  /** Which pool holds each running job, by job key (what the admin area shows per job). */
  const holders = async () => {
    const { rows } = await pool.query<{ key: string; locked_by: string }>('SELECT key, locked_by FROM graphile_worker.jobs WHERE locked_at IS NOT NULL AND key IS NOT NULL AND locked_by IS NOT NULL');
    return new Map(rows.map((r) => [r.key, r.locked_by]));
  };

  /** Idle workers wait for a NOTIFY or their next poll (2 s): after a resume, nudge them. */
  const wake = () => wakeIdleWorkers(pool);

  /** Creates graphile-worker's schema; web processes call it too, since they enqueue. */
  const migrate = () => runMigrations({ pgPool: pool, logger: quietLogger(log) });

  /** A runner of `concurrency` slots for the jobs named in `names` only (graphile-worker takes only tasks it knows). */
  async function startWorkers(concurrency: number, runJob: RunJob, names: readonly string[] = jobNames): Promise<WorkerPool> {
    // Jobs are locked by the worker POOL id, known only from the pool:create event: listen on
    // our own emitter before run() starts so the event cannot be missed.
    const events: WorkerEvents = new EventEmitter() as WorkerEvents;
    let liveness: Liveness | undefined;
    let poolId = '';
    const slots = encodeSlots(concurrency, names);
    localSlots += slots;
    events.on('pool:create', ({ workerPool }) => {
      poolId = workerPool.id;
      liveness = startLiveness(pool, log, { poolId, host: os.hostname(), pid: process.pid, slots });
    });
    const runner: Runner = await run({
      pgPool: pool,
      concurrency,
      noHandleSignals: true,
      pollInterval: 2000,
      events,
      forbiddenFlags,
      logger: quietLogger(log),
      gracefulShutdownAbortTimeout: 10_000,
      // One task per job name; graphile-worker only takes jobs whose name it has a task for.
      taskList: Object.fromEntries(
        names.map((name) => [
          name,
          async (payload: unknown, helpers: { job: { id: string; attempts: number; run_at: Date }; abortSignal?: AbortSignal }) => {
            const jobLog = log.child({ jobId: helpers.job.id, job: name, workerId: poolId, attempt: helpers.job.attempts });
            finished.delete(helpers.job.id); // a retry of a job that failed here runs again
            jobLog.info({ payload }, 'job started');
            try {
              const outcome = await runJob(name, payload, { signal: helpers.abortSignal ?? new AbortController().signal, attempt: helpers.job.attempts, runnableSince: helpers.job.run_at.getTime() });
              jobLog.info({ outcome }, 'job finished');
            } catch (err) {
              // Retrying cannot make a malformed job valid: complete it, loudly.
              if (err instanceof InvalidJob) return jobLog.error({ err }, 'invalid job dropped');
              throw err;
            } finally {
              finished.set(helpers.job.id, Date.now());
            }
          },
        ]),
      ),
    });
    log.info({ workerId: poolId, concurrency }, 'graphile worker pool started');
    return {
      get workerId() {
        return poolId;
      },
      async stop(graceMs) {
        // Take no new jobs; running ones get the grace period, then their abort signal fires,
        // the handler throws and graphile-worker hands the job back with a short retry delay.
        const force = setTimeout(() => void runner.kill('grace period over'), graceMs + 1000);
        await runner.stop('shutting down');
        clearTimeout(force);
        localSlots -= slots;
        await liveness?.stop();
      },
    };
  }

  return { jobsWithin, migrate, startWorkers, names, holders, wake };
}

/** graphile-worker's own logger, routed into pino: warnings and errors as such, the rest as debug. */
function quietLogger(log: Logger) {
  return new GraphileLogger((scope) => (level, message, meta) => {
    const target = level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'debug';
    log[target]({ scope, ...meta }, message);
  });
}
