import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { JobRow } from '../src/db/schema.ts';
import { createLogger } from '../src/log.ts';
import { jobTable } from '../src/queue/embedded-table.ts';
import { cappedOwnerFlags } from '../src/queue/graphile-cap.ts';
import { createGraphileQueue } from '../src/queue/graphile.ts';
import { runningCap } from '../src/queue/running-cap.ts';
import { databaseBackends, type TestDatabase } from './helpers/databases.ts';

const NAMES = ['transcode', 'segment'];
const payloadFileId = (row: JobRow | undefined) => (JSON.parse(row?.payload ?? '{}') as { fileId?: string }).fileId;

describe('running cap: default', () => {
  it('is the setting, or half the slots, at least 1', () => {
    assert.deepEqual([runningCap(0, 2), runningCap(0, 5), runningCap(0, 1), runningCap(0, 0), runningCap(3, 2)], [1, 2, 1, 1, 3]);
  });
});

/** The embedded claim against a real SQLite jobs table: which job one claim takes. */
describe('running cap: embedded claim (SQLite)', () => {
  let database: TestDatabase;
  const sqlite = databaseBackends().find((b) => b.name === 'sqlite');
  before(async () => {
    if (!sqlite) throw new Error('no sqlite backend');
    database = await sqlite.open();
  });
  after(() => database.close());

  const reset = () => database.db.deleteFrom('jobs').execute();
  const add = (fileId: string, owner: string | null, priority: number, runAt: number) =>
    jobTable(database.db).insert(database.db, { name: 'transcode', payload: { fileId, generation: 1 }, key: `transcode:${fileId}:g1`, runAt, createdAt: runAt, priority, owner });
  const claim = (cap: number, now = 1_000) => jobTable(database.db).claim('w', now, now - 30_000, NAMES, cap);

  it("puts a user at the cap behind another user's job, even one of worse priority", async () => {
    await reset();
    await add('a1', 'A', 0, 1);
    await add('a2', 'A', 0, 2);
    await add('b1', 'B', 7, 3);
    assert.equal(payloadFileId(await claim(1)), 'a1', 'nobody runs anything: best priority first');
    assert.equal(payloadFileId(await claim(1)), 'b1', 'A runs one (the cap): B goes first');
    assert.equal(payloadFileId(await claim(1)), 'a2', 'nobody else waits: A takes the free slot');
  });

  it('lets a user below a higher cap keep the priority order', async () => {
    await reset();
    await add('a1', 'A', 0, 1);
    await add('a2', 'A', 0, 2);
    await add('b1', 'B', 7, 3);
    await claim(2);
    assert.equal(payloadFileId(await claim(2)), 'a2');
  });

  it('never holds back jobs without an owner, and forgets running jobs whose worker went silent', async () => {
    await reset();
    await add('a1', 'A', 0, 1);
    await add('n1', null, 5, 2);
    await add('a2', 'A', 0, 3);
    await claim(1, 1_000);
    assert.equal(payloadFileId(await claim(1, 1_000)), 'n1', 'A is at the cap; the ownerless job is not');
    // 40 s later a1's heartbeat is stale: it is taken again first and A no longer counts it as running.
    const again = await claim(1, 41_000);
    assert.equal(payloadFileId(again), 'a1');
  });
});

/** graphile-worker's side: the flags a fetch skips, read from its own table on real PostgreSQL. */
describe('running cap: graphile-worker forbidden flags (PostgreSQL)', { skip: databaseBackends().some((b) => b.name === 'postgresql') ? false : 'no PostgreSQL in this run' }, () => {
  let database: TestDatabase;
  before(async () => {
    const pgBackend = databaseBackends().find((b) => b.name === 'postgresql');
    if (!pgBackend) throw new Error('no postgresql backend');
    database = await pgBackend.open();
    await createGraphileQueue(pgPool(), createLogger('silent')).migrate();
  });
  after(() => database.close());

  const pgPool = () => {
    if (!database.pg) throw new Error('a PostgreSQL test database has its pool');
    return database.pg.pool;
  };
  const queue = () => createGraphileQueue(pgPool(), createLogger('silent'));
  const add = (fileId: string, owner: string | undefined, priority: number) =>
    queue().jobsWithin(database.db).enqueue({ name: 'transcode', payload: { fileId, generation: 1 } }, { key: `transcode:${fileId}:g1`, priority, ...(owner === undefined ? {} : { owner }) });
  const lock = (fileId: string) => sql`UPDATE graphile_worker._private_jobs SET locked_at = now(), locked_by = 'test' WHERE key = ${`transcode:${fileId}:g1`}`.execute(database.db);
  const flags = (setting: number, localSlots = 2) => cappedOwnerFlags(pgPool(), { setting, localSlots, liveSince: 0 });

  it('forbids the owner at the cap only while a user below it waits', async () => {
    await add('a1', 'A', 0);
    await add('a2', 'A', 1);
    assert.deepEqual(await flags(1), [], 'nothing runs');
    await lock('a1');
    assert.deepEqual(await flags(1), [], 'A is alone: A may take every slot');
    await add('b1', 'B', 5);
    assert.deepEqual(await flags(1), ['u:A'], 'B waits below the cap');
    assert.deepEqual(await flags(2), [], 'A is below a cap of 2');
    assert.deepEqual(await flags(0, 4), [], 'default cap: half of 4 slots');
    assert.deepEqual(await flags(0, 2), ['u:A'], 'default cap: half of 2 slots');
    await lock('b1');
    assert.deepEqual(await flags(1), [], 'B runs too: nobody below the cap waits');
    await add('b2', 'B', 6);
    // b1's task has returned here but graphile-worker has not yet recorded it: B is below the cap again.
    const b1 = await sql<{ id: string }>`SELECT id::text AS id FROM graphile_worker._private_jobs WHERE key = 'transcode:b1:g1'`.execute(database.db);
    assert.deepEqual(await cappedOwnerFlags(pgPool(), { setting: 1, localSlots: 2, liveSince: 0, finished: b1.rows.map((r) => r.id) }), ['u:A']);
  });
});
