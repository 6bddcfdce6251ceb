import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createStore } from '../src/db/store.ts';
import type { PushEvent, PushHub, Store } from '../src/domain/ports.ts';
import { createLogger } from '../src/log.ts';
import { createMemoryPushHub } from '../src/push/memory.ts';
import { createPgPushHub } from '../src/push/pg-notify.ts';
import { createEmbeddedQueue } from '../src/queue/embedded.ts';
import { databaseBackends, type TestDatabase } from './helpers/databases.ts';
import { userRecord } from './helpers/records.ts';
import { waitFor } from './helpers/server.ts';

/** A push backend under test, with the store its events are saved in first. */
interface PushUnderTest {
  store: Store;
  hub: PushHub;
  /** Another process's hub on the same backend; undefined where push stays inside one process. */
  peer?: PushHub;
  close(): Promise<void>;
}

const log = createLogger('silent');
const storeOf = (database: TestDatabase) => createStore(database.db, createEmbeddedQueue(database.db, log).jobsWithin);

const [sqlite, postgres] = databaseBackends();

const backends: { name: string; make(): Promise<PushUnderTest> }[] = [
  {
    name: 'memory hub',
    async make() {
      const database = await (sqlite as { open(): Promise<TestDatabase> }).open();
      return { store: storeOf(database), hub: createMemoryPushHub(), close: () => database.close() };
    },
  },
  ...(postgres
    ? [{
        name: 'PostgreSQL LISTEN/NOTIFY',
        async make(): Promise<PushUnderTest> {
          const database = await postgres.open();
          const { pool, url } = database.pg ?? assert.fail('a PostgreSQL backend without its pool');
          const store = storeOf(database);
          const hubOfOneProcess = () => createPgPushHub({ pool, newClient: () => new pg.Client({ connectionString: url }), events: store.events, log });
          const hub = hubOfOneProcess();
          const peer = hubOfOneProcess();
          await Promise.all([hub.start(), peer.start()]);
          return {
            store,
            hub,
            peer,
            async close() {
              await Promise.all([hub.stop(), peer.stop()]);
              await database.close();
            },
          };
        },
      }]
    : []),
];

/** What the domain does: save the event, then publish it once saved. */
async function publish(p: PushUnderTest, hub: PushHub, userId: string, type: PushEvent['type'], data: object): Promise<PushEvent> {
  const event = { id: await p.store.events.insert({ userId, type, data, createdAt: Date.now() }), type, data };
  hub.publish(userId, event);
  return event;
}

function collect(hub: PushHub, userId: string) {
  const got: PushEvent[] = [];
  const stop = hub.subscribe(userId, (e) => got.push(e));
  return { got, stop };
}

const until = (what: string, check: () => boolean) => waitFor(what, async () => (check() ? true : undefined), 10_000);

for (const backend of backends) {
  describe(`push contract: ${backend.name}`, () => {
    let p: PushUnderTest;
    before(async () => {
      p = await backend.make();
      for (const id of ['push-a', 'push-b', 'push-c', 'push-d']) await p.store.users.create(userRecord(id));
    });
    after(() => p.close());

    it('a subscriber of A gets A\'s events in order, whole, and never B\'s', async () => {
      const a = collect(p.hub, 'push-a');
      const b = collect(p.hub, 'push-b');
      const sent: PushEvent[] = [];
      const data = (n: number) => ({ n, name: 'Sóng — “live”', list: [1, 'two', null], nested: { ok: true } });
      for (let n = 1; n <= 5; n++) {
        sent.push(await publish(p, p.hub, 'push-a', 'file.updated', data(n)));
        if (n === 3) await publish(p, p.hub, 'push-b', 'notification.created', { secret: 'for b only' });
      }
      const bLast = await publish(p, p.hub, 'push-b', 'notification.dismissed', { ids: ['x'] });
      await until('all of A\'s events', () => a.got.length >= 5);
      await until('B\'s last event', () => b.got.some((e) => e.id === bLast.id));
      assert.deepEqual(a.got, sent, 'in order, with type and payload intact');
      assert.ok(b.got.every((e) => !sent.some((s) => s.id === e.id)), 'B saw none of A\'s');
      a.stop();
      b.stop();
    });

    it('unsubscribing stops delivery to that listener only', async () => {
      const leaving = collect(p.hub, 'push-c');
      const staying = collect(p.hub, 'push-c');
      const first = await publish(p, p.hub, 'push-c', 'file.updated', { step: 1 });
      await until('the first event at both', () => leaving.got.length === 1 && staying.got.length === 1);
      leaving.stop();
      await publish(p, p.hub, 'push-c', 'file.updated', { step: 2 });
      const last = await publish(p, p.hub, 'push-c', 'file.updated', { step: 3 });
      // Delivery is in order, so once the listener that stayed has the last event, the one that
      // left would have had the second by now if it were still subscribed.
      await until('the last event at the listener that stayed', () => staying.got.some((e) => e.id === last.id));
      assert.deepEqual(leaving.got, [first]);
      assert.equal(staying.got.length, 3);
      staying.stop();
    });

    it('events published in another process reach this one\'s subscribers', { skip: !backend.name.startsWith('PostgreSQL') && 'one process only' }, async () => {
      const here = collect(p.hub, 'push-d');
      const sent = [];
      for (let n = 1; n <= 3; n++) sent.push(await publish(p, p.peer as PushHub, 'push-d', 'notification.created', { n }));
      await until('the peer\'s events', () => here.got.length >= 3);
      assert.deepEqual(here.got, sent);
      here.stop();
    });
  });
}
