import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { migrateToLatest } from '../src/db/migrate.ts';
import { openPostgres } from '../src/db/postgres.ts';
import type { Database } from '../src/db/schema.ts';
import { openSqlite } from '../src/db/sqlite.ts';
import { createStore } from '../src/db/store.ts';
import type { Store } from '../src/domain/ports.ts';
import type { Job } from '../src/jobs/definitions.ts';
import type { RunJob } from '../src/jobs/handlers.ts';
import { dispatcher } from '../src/jobs/handlers.ts';
import { createLogger } from '../src/log.ts';
import { createEmbeddedQueue, type WorkerPool } from '../src/queue/embedded.ts';
import { createGraphileQueue } from '../src/queue/graphile.ts';
import { backend, freshBackendEnv } from './helpers/backends.ts';
import { waitFor } from './helpers/server.ts';

interface QueueUnderTest {
  /** A store wired to the queue as the composition root wires it: jobs go through `tx.jobs`. */
  store: Store;
  startWorkers(concurrency: number, run: RunJob): Promise<WorkerPool>;
  names(): Promise<string[]>;
  /** Puts a job straight into the queue's storage, bypassing validation: what an old version or a hand might leave. */
  rawInsert(name: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

const log = createLogger('silent');

async function embedded(): Promise<QueueUnderTest> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-queue-'));
  const db = openSqlite(path.join(dir, 'q.sqlite'));
  await migrateToLatest(db);
  const q = createEmbeddedQueue(db, log);
  return {
    store: createStore(db, q.jobsWithin),
    startWorkers: q.startWorkers,
    names: q.names,
    rawInsert: async (name, payload) => {
      await db.insertInto('jobs').values({ name, payload, key: null, state: 'queued', attempts: 0, locked_by: null, heartbeat_at: null, run_at: 0, created_at: 0 }).execute();
    },
    async close() {
      await db.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function graphile(): Promise<QueueUnderTest> {
  const env = await freshBackendEnv();
  const handle = openPostgres(env.DATABASE_URL as string);
  await migrateToLatest(handle.db);
  const g = createGraphileQueue(handle.pool, log);
  await g.migrate();
  return {
    store: createStore(handle.db, g.jobsWithin),
    startWorkers: g.startWorkers,
    names: g.names,
    rawInsert: async (name, payload) => {
      await sql`SELECT graphile_worker.add_job(${name}, ${payload}::json)`.execute(handle.db as Kysely<Database>);
    },
    close: () => handle.db.destroy(),
  };
}

const job = (fileId: string, generation = 1): Job => ({ name: 'transcode', payload: { fileId, generation } });

/** Every queue backend passes the same suite: the embedded table always, graphile-worker when PostgreSQL is here. */
const backends: [string, () => Promise<QueueUnderTest>][] = [['embedded', embedded], ...(backend.pgAdminUrl ? [['graphile-worker', graphile] as [string, () => Promise<QueueUnderTest>]] : [])];

for (const [name, make] of backends) {
  describe(`queue contract: ${name}`, () => {
    let q: QueueUnderTest;
    let pool: WorkerPool | undefined;
    const seen: { name: string; payload: unknown; attempt: number }[] = [];
    before(async () => {
      q = await make();
    });
    after(async () => {
      await pool?.stop(1_000);
      await q.close();
    });

    const runAll: RunJob = async (jobName, payload, ctx) => {
      seen.push({ name: jobName, payload, attempt: ctx.attempt });
    };
    const ran = (fileId: string) => seen.filter((s) => (s.payload as { fileId?: string }).fileId === fileId);

    it('delivers the job committed with the caller\'s transaction, and not one that rolled back', async () => {
      await q.store.transaction((tx) => tx.jobs.enqueue(job('committed')));
      await q.store
        .transaction(async (tx) => {
          await tx.jobs.enqueue(job('rolled-back'));
          throw new Error('roll back');
        })
        .catch(() => undefined);
      // The validating dispatcher sits in front, as in production.
      pool = await q.startWorkers(2, dispatcher({ transcode: (payload, ctx) => runAll('transcode', payload, ctx), segment: (payload, ctx) => runAll('segment', payload, ctx), 'segment.join': (payload, ctx) => runAll('segment.join', payload, ctx), 'webhook.deliver': (payload, ctx) => runAll('webhook.deliver', payload, ctx), 'mail.send': (payload, ctx) => runAll('mail.send', payload, ctx), 'retention.sweep': (payload, ctx) => runAll('retention.sweep', payload, ctx) }));
      await waitFor('the committed job', async () => (ran('committed').length > 0 ? true : undefined), 10_000);
      assert.deepEqual(ran('committed')[0], { name: 'transcode', payload: { fileId: 'committed', generation: 1 }, attempt: 1 });
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(ran('rolled-back'), []);
    });

    it('runs one job for two enqueues with the same key', async () => {
      await q.store.transaction(async (tx) => {
        await tx.jobs.enqueue(job('keyed'), { key: 'k1', runAt: Date.now() + 1_500 });
        await tx.jobs.enqueue(job('keyed', 2), { key: 'k1', runAt: Date.now() + 1_500 });
      });
      await waitFor('the keyed job', async () => (ran('keyed').length > 0 ? true : undefined), 10_000);
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal(ran('keyed').length, 1);
      assert.deepEqual(ran('keyed')[0]?.payload, { fileId: 'keyed', generation: 2 });
    });

    it('waits for runAt, and removeQueued drops a job that has not started', async () => {
      const runAt = Date.now() + 2_000;
      await q.store.transaction((tx) => tx.jobs.enqueue(job('later'), { runAt }));
      await q.store.transaction((tx) => tx.jobs.enqueue(job('dropped'), { key: 'drop-me', runAt }));
      await q.store.transaction((tx) => tx.jobs.removeQueued('drop-me'));
      await waitFor('the later job', async () => (ran('later').length > 0 ? true : undefined), 10_000);
      assert.ok(Date.now() >= runAt - 50, 'ran before its time');
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(ran('dropped'), []);
    });

    it('drops a job whose payload is invalid, without retrying it, and keeps working', async () => {
      const before = seen.length;
      await q.rawInsert('transcode', JSON.stringify({ fileId: 42 }));
      await q.store.transaction((tx) => tx.jobs.enqueue(job('after-invalid')));
      await waitFor('the next job', async () => (ran('after-invalid').length > 0 ? true : undefined), 10_000);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(seen.length - before, 1, 'only the valid job reached a handler');
      assert.deepEqual(await q.names(), []);
    });

    it('reports the job names it holds, for the start-up check', async () => {
      await pool?.stop(1_000);
      pool = undefined;
      await q.rawInsert('no-such-job', '{}');
      assert.deepEqual(await q.names(), ['no-such-job']);
    });
  });
}
