import { randomUUID } from 'node:crypto';
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { createDiskBlobStore } from './blobs/disk.ts';
import { createS3BlobStore, createS3Client } from './blobs/s3.ts';
import type { Config } from './config.ts';
import { migrateToLatest } from './db/migrate.ts';
import { openPostgres } from './db/postgres.ts';
import type { Database } from './db/schema.ts';
import { openSqlite } from './db/sqlite.ts';
import { createStore } from './db/store.ts';
import type { AccountDeps } from './domain/accounts.ts';
import { EVENT_RETENTION_MS } from './domain/events.ts';
import { uploadCopyDir } from './domain/uploads.ts';
import type { BlobStore, Deps, PushHub, QueueAdmin, Store } from './domain/ports.ts';
import { argon2Hasher } from './hasher.ts';
import type { Logger } from './log.ts';
import { createFfmpegMedia } from './media/ffmpeg.ts';
import { createMemoryPushHub } from './push/memory.ts';
import { createPgPushHub } from './push/pg-notify.ts';
import { transcodeJobNames } from './jobs/definitions.ts';
import { dispatcher, unhandledNames, type RunJob } from './jobs/handlers.ts';
import { jobHandlers } from './jobs/registry.ts';
import { measuredRun } from './jobs/measured.ts';
import { noopMetrics } from './domain/metrics-port.ts';
import { createPrometheusExporter, type MetricsExporter } from './metrics/prometheus.ts';
import { databaseReadings } from './metrics/readings.ts';
import { createEmbeddedQueue, type WorkerPool } from './queue/embedded.ts';
import { createGraphileQueue } from './queue/graphile.ts';
import { startSweeper } from './queue/liveness.ts';
import { embeddedHolders } from './queue/embedded-table.ts';
import { sweepDeadProcessEntries } from './sweep.ts';
import { scheduleRetentionSweep } from './domain/retention-sweep.ts';
import { createWebhookSender } from './webhooks/sender.ts';
import { createSmtpMailer } from './mail/smtp.ts';
import { measuredSender } from './webhooks/measured-sender.ts';
import { RESUMABLE_EXPIRY_MS, resumableBackend, type ResumableBackend } from './uploads/resumable-store.ts';

export interface App {
  deps: Deps;
  accountDeps: AccountDeps;
  db: Kysely<Database>;
  /** Where unfinished resumable (tus) uploads live. */
  resumable: ResumableBackend;
  /** The queue backend's part of the admin area. */
  queueAdmin: QueueAdmin;
  /** Prometheus metrics of this process; absent without METRICS_TOKEN. */
  metrics: MetricsExporter | undefined;
  /** Database and storage reachable: what /readyz reports. */
  ready(): Promise<{ database: boolean; storage: boolean }>;
  /** Hourly: forget expired sessions and events too old to replay. Returns a stop function. */
  startHousekeeping(): () => void;
  /** Starts `concurrency` job slots in this process (none when 0). */
  startWorkers(concurrency: number): Promise<WorkerPool | undefined>;
  close(): Promise<void>;
}

/** Mail is one message per finished job: two at once keeps a slow server from queueing them up. */
const MAIL_CONCURRENCY = 2;

/** A start-up failure that names the setting to fix; printed as one line. */
export class StartupError extends Error {}

const reason = (err: unknown) => {
  const e = err as { message?: string; name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e.message || e.Code || e.name || (e.$metadata?.httpStatusCode ? `HTTP ${e.$metadata.httpStatusCode}` : String(err));
};

/** The composition root: the only place that picks backends and wires them together. */
export async function buildApp(config: Config, log: Logger): Promise<App> {
  await mkdir(config.dataDir, { recursive: true });
  const closers: (() => Promise<void>)[] = [];

  // Database, queue and cross-process push: SQLite + in-process, or PostgreSQL + graphile-worker.
  // The store reaches the queue backend's SQL only through `jobsWithin`, given here: a job is
  // added on the same handle (and so in the same transaction) as the rows it belongs to.
  let db: Kysely<Database>;
  let store: Store;
  let push: PushHub;
  let startPool: (concurrency: number, runJob: RunJob, names: readonly string[]) => Promise<WorkerPool>;
  let namesInQueue: () => Promise<string[]>;
  let newPgClient: (() => pg.Client) | undefined;
  let queueAdmin: QueueAdmin;
  if (config.databaseUrl) {
    const url = config.databaseUrl;
    const pgHandle = openPostgres(url);
    db = pgHandle.db;
    closers.push(() => db.destroy());
    try {
      await migrateToLatest(db);
    } catch (err) {
      await db.destroy();
      throw new StartupError(`DATABASE_URL: cannot use the database (${reason(err)})`);
    }
    const graphile = createGraphileQueue(pgHandle.pool, log, { userMaxRunning: config.userMaxRunning });
    await graphile.migrate();
    store = createStore(db, graphile.jobsWithin);
    startPool = graphile.startWorkers;
    namesInQueue = graphile.names;
    queueAdmin = { holders: graphile.holders, wake: graphile.wake };
    newPgClient = () => new pg.Client({ connectionString: url });
    const hub = createPgPushHub({ pool: pgHandle.pool, newClient: newPgClient, events: store.events, log });
    await hub.start();
    closers.unshift(() => hub.stop());
    push = hub;
    const stopSweeper = startSweeper(pgHandle.pool, log);
    closers.unshift(async () => stopSweeper());
  } else {
    db = openSqlite(path.join(config.dataDir, 'reprise.sqlite'));
    closers.push(() => db.destroy());
    await migrateToLatest(db);
    const embedded = createEmbeddedQueue(db, log, { userMaxRunning: config.userMaxRunning });
    store = createStore(db, embedded.jobsWithin);
    startPool = embedded.startWorkers;
    namesInQueue = embedded.names;
    queueAdmin = { holders: () => embeddedHolders(db), wake: () => Promise.resolve(embedded.wakeAll()) };
    push = createMemoryPushHub();
  }

  let blobs: BlobStore;
  let checkStorage: () => Promise<void>;
  if (config.s3) {
    const s3 = createS3BlobStore(createS3Client(config.s3), config.s3.bucket, { presignedReads: config.s3.presignedReads });
    try {
      await s3.check();
    } catch (err) {
      await Promise.all(closers.map((c) => c()));
      throw new StartupError(`S3_BUCKET: bucket "${config.s3.bucket}" is missing or not accessible (${reason(err)})`);
    }
    blobs = s3;
    checkStorage = s3.check;
  } else {
    const root = path.join(config.dataDir, 'blobs');
    blobs = createDiskBlobStore(root);
    checkStorage = () => mkdir(root, { recursive: true }).then(() => access(root));
  }

  // Without a token nobody can read metrics, so none are kept: no hooks, no cost.
  const exporter = config.metricsToken ? createPrometheusExporter(databaseReadings(db, config.databaseUrl ? 'graphile' : 'embedded')) : undefined;
  const metrics = exporter?.port ?? noopMetrics;
  const sender = createWebhookSender({ allowPrivate: config.webhooks.allowPrivate });
  const deps: Deps = {
    config,
    store,
    blobs,
    media: createFfmpegMedia(config),
    push,
    webhookSender: exporter ? measuredSender(sender, metrics) : sender,
    mailer: config.mail ? createSmtpMailer(config.mail) : undefined,
    log,
    metrics,
    now: () => Date.now(),
    newId: () => randomUUID(),
  };
  for (const [dir, prefix] of [[path.join(config.dataDir, 'tmp'), 'job-'], [uploadCopyDir(config.dataDir), 'upload-'], [path.join(config.dataDir, 'blobs', 'incoming'), 'in-']] as const) {
    const removed = await sweepDeadProcessEntries(dir, prefix, log);
    if (removed.length > 0) log.info({ dir, removed }, 'removed leftovers of a process that died');
  }

  const resumable: ResumableBackend = await resumableBackend(config, { blobs, log, newPgClient });
  closers.unshift(() => resumable.close());
  /** Unfinished uploads past their day: forget them and remove their bytes. */
  const expireUploads = async (now: number) => {
    for (const id of await deps.store.resumableUploads.removeOlderThan(now - RESUMABLE_EXPIRY_MS)) {
      await resumable.forget(id).catch(() => undefined);
      await deps.store.quotas.release(id).catch(() => undefined);
    }
    // Reservations only matter for the day they were made in (and open ones expire on their own).
    await deps.store.quotas.pruneBefore(now - 2 * 86_400_000).catch(() => 0);
    await resumable.datastore.deleteExpired().catch(() => 0);
  };

  return {
    deps,
    resumable,
    queueAdmin,
    metrics: exporter,
    accountDeps: { ...deps, hasher: argon2Hasher },
    db,
    async ready() {
      const [database, storage] = await Promise.all([
        sql`SELECT 1`.execute(db).then(() => true, () => false),
        checkStorage().then(() => true, () => false),
      ]);
      return { database, storage };
    },
    startHousekeeping() {
      const sweep = () => {
        const now = Date.now();
        Promise.all([deps.store.sessions.removeExpired(now), deps.store.events.pruneBefore(now - EVENT_RETENTION_MS), expireUploads(now)]).catch((err: unknown) =>
          log.warn({ err }, 'housekeeping failed'),
        );
      };
      sweep();
      const timer = setInterval(sweep, 3600_000);
      timer.unref();
      return () => clearInterval(timer);
    },
    async startWorkers(concurrency) {
      if (concurrency <= 0) return undefined;
      const handlers = jobHandlers(deps);
      const missing = unhandledNames(await namesInQueue(), handlers);
      if (missing.length > 0) {
        throw new StartupError(`the job queue holds jobs this version cannot run (${missing.join(', ')}): run the version that queued them, or remove those jobs`);
      }
      // Deliveries get slots of their own: a slow receiver never holds a transcode slot, and a
      // long transcode never delays a delivery.
      const run = measuredRun(dispatcher(handlers), metrics);
      const pools = [await startPool(concurrency, run, transcodeJobNames)];
      if (config.webhooks.concurrency > 0) pools.push(await startPool(config.webhooks.concurrency, run, ['webhook.deliver']));
      // Mail gets two slots of its own, and only where it can be sent: without SMTP_URL none is queued.
      if (config.mail) pools.push(await startPool(MAIL_CONCURRENCY, run, ['mail.send']));
      // Retention's sweep: one slot, so it never waits behind a transcode or a delivery. Queued
      // now on every start (under one key, so many workers still leave one waiting); each run
      // queues the next. See docs/decisions/0019-retention.md.
      pools.push(await startPool(1, run, ['retention.sweep']));
      await scheduleRetentionSweep(deps);
      return {
        workerId: pools.map((p) => p.workerId).join(','),
        async stop(graceMs) {
          await Promise.all(pools.map((p) => p.stop(graceMs)));
        },
      };
    },
    async close() {
      for (const close of closers) await close();
    },
  };
}
