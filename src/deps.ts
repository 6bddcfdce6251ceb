import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { createDiskBlobStore } from './blobs/disk.ts';
import type { Config } from './config.ts';
import { migrateToLatest } from './db/migrate.ts';
import type { Database } from './db/schema.ts';
import { openSqlite } from './db/sqlite.ts';
import { deleteExpiredSessions } from './db/repos/sessions.ts';
import { createStore } from './db/store.ts';
import { EVENT_RETENTION_MS } from './domain/events.ts';
import type { AccountDeps } from './domain/accounts.ts';
import type { Deps } from './domain/ports.ts';
import { runTranscodeJob } from './domain/transcode.ts';
import { argon2Hasher } from './hasher.ts';
import type { Logger } from './log.ts';
import { createFfmpegMedia } from './media/ffmpeg.ts';
import { createMemoryPushHub } from './push/memory.ts';
import { createEmbeddedQueue, type WorkerPool } from './queue/embedded.ts';
import { sweepDeadProcessEntries } from './sweep.ts';

export interface App {
  deps: Deps;
  accountDeps: AccountDeps;
  db: Kysely<Database>;
  /** Hourly: forget expired sessions and events too old to replay. Returns a stop function. */
  startHousekeeping(): () => void;
  /** Starts `concurrency` job slots in this process (none when 0). */
  startWorkers(concurrency: number): Promise<WorkerPool | undefined>;
  close(): Promise<void>;
}

/** The composition root: the only place that picks backends and wires them together. */
export async function buildApp(config: Config, log: Logger): Promise<App> {
  await mkdir(config.dataDir, { recursive: true });
  const db = openSqlite(path.join(config.dataDir, 'reprise.sqlite'));
  await migrateToLatest(db);
  const store = createStore(db);
  const embedded = createEmbeddedQueue(store, log);
  const deps: Deps = {
    config,
    store,
    blobs: createDiskBlobStore(path.join(config.dataDir, 'blobs')),
    queue: embedded.queue,
    media: createFfmpegMedia(config),
    push: createMemoryPushHub(),
    log,
    now: () => Date.now(),
    newId: () => randomUUID(),
  };
  for (const [dir, prefix] of [[path.join(config.dataDir, 'tmp'), 'job-'], [path.join(config.dataDir, 'blobs', 'incoming'), 'in-']] as const) {
    const removed = await sweepDeadProcessEntries(dir, prefix);
    if (removed.length > 0) log.info({ dir, removed }, 'removed leftovers of a process that died');
  }
  return {
    deps,
    accountDeps: { ...deps, hasher: argon2Hasher },
    db,
    startHousekeeping() {
      const sweep = () => {
        const now = Date.now();
        Promise.all([deleteExpiredSessions(db, now), store.events.pruneBefore(now - EVENT_RETENTION_MS)]).catch((err: unknown) =>
          log.warn({ err }, 'housekeeping failed'),
        );
      };
      sweep();
      const timer = setInterval(sweep, 3600_000);
      timer.unref();
      return () => clearInterval(timer);
    },
    startWorkers: async (concurrency) =>
      concurrency > 0
        ? embedded.startWorkers(concurrency, (job, signal) => runTranscodeJob(deps, job, { signal }))
        : undefined,
    close: () => db.destroy(),
  };
}

