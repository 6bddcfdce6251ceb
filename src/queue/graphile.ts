import { EventEmitter } from 'node:events';
import os from 'node:os';
import { Logger as GraphileLogger, run, runMigrations, type Runner, type WorkerEvents } from 'graphile-worker';
import { sql } from 'kysely';
import type pg from 'pg';
import { kyselyOf } from '../db/store.ts';
import type { JobQueue, TranscodeJob } from '../domain/ports.ts';
import type { Logger } from '../log.ts';
import type { JobHandler, WorkerPool } from './embedded.ts';
import { startLiveness, type Liveness } from './liveness.ts';

const TASK = 'transcode';

/**
 * The scale-out queue: graphile-worker on the application's PostgreSQL. Jobs are added with
 * `graphile_worker.add_job` inside the caller's transaction, so a file row and its job commit
 * together. The job key (file + generation) makes a duplicate enqueue replace, not add.
 */
export function createGraphileQueue(pool: pg.Pool, log: Logger) {
  const queue: JobQueue = {
    async enqueue(tx, job) {
      await sql`SELECT graphile_worker.add_job(${TASK}, ${JSON.stringify(job)}::json, job_key := ${`file:${job.fileId}:g${job.generation}`}, max_attempts := 25)`.execute(
        kyselyOf(tx),
      );
    },
  };

  /** Creates graphile-worker's schema; web processes call it too, since they enqueue. */
  const migrate = () => runMigrations({ pgPool: pool, logger: quietLogger(log) });

  async function startWorkers(concurrency: number, handler: JobHandler): Promise<WorkerPool> {
    // Jobs are locked by the worker POOL id, known only from the pool:create event: listen on
    // our own emitter before run() starts so the event cannot be missed.
    const events: WorkerEvents = new EventEmitter() as WorkerEvents;
    let liveness: Liveness | undefined;
    let poolId = '';
    events.on('pool:create', ({ workerPool }) => {
      poolId = workerPool.id;
      liveness = startLiveness(pool, log, { poolId, host: os.hostname(), pid: process.pid });
    });
    const runner: Runner = await run({
      pgPool: pool,
      concurrency,
      noHandleSignals: true,
      pollInterval: 2000,
      events,
      logger: quietLogger(log),
      gracefulShutdownAbortTimeout: 10_000,
      taskList: {
        [TASK]: async (payload, helpers) => {
          const job = payload as TranscodeJob;
          const jobLog = log.child({ jobId: helpers.job.id, fileId: job.fileId, workerId: poolId, attempt: helpers.job.attempts });
          jobLog.info('job started');
          const outcome = await handler(job, helpers.abortSignal);
          jobLog.info({ outcome }, 'job finished');
        },
      },
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
        await liveness?.stop();
      },
    };
  }

  return { queue, migrate, startWorkers };
}

/** graphile-worker's own logger, routed into pino: warnings and errors as such, the rest as debug. */
function quietLogger(log: Logger) {
  return new GraphileLogger((scope) => (level, message, meta) => {
    const target = level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'debug';
    log[target]({ scope, ...meta }, message);
  });
}
