import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createStore } from '../src/db/store.ts';
import type { Store } from '../src/domain/ports.ts';
import { createLogger } from '../src/log.ts';
import { createEmbeddedQueue } from '../src/queue/embedded.ts';
import { databaseBackends, type TestDatabase } from './helpers/databases.ts';
import { deliveryRecord, endpointRecord, fileRecord, notificationRecord, userRecord } from './helpers/records.ts';

/**
 * Every database backend passes the same Store suite: what SQLite does, PostgreSQL does. Records
 * come back as they went in (lists as arrays, flags as booleans, large numbers as numbers); an id
 * that belongs to someone else finds nothing and changes nothing.
 */
for (const backend of databaseBackends()) {
  describe(`Store contract: ${backend.name}`, () => {
    let database: TestDatabase;
    let store: Store;
    const A = 'user-a';
    const B = 'user-b';
    before(async () => {
      database = await backend.open();
      store = createStore(database.db, createEmbeddedQueue(database.db, createLogger('silent')).jobsWithin);
      for (const id of [A, B]) assert.equal(await store.users.create(userRecord(id)), true);
    });
    after(() => database.close());

    it('users: one per username, found by name and by id', async () => {
      assert.equal(await store.users.create(userRecord('user-c', { username: `user-${A}` })), false, 'a taken username');
      assert.deepEqual(await store.users.findByUsername(`user-${A}`), userRecord(A));
      assert.deepEqual(await store.users.findById(B), userRecord(B));
      assert.equal(await store.users.findById('user-c'), undefined);
    });

    it('files: a record comes back as it went in, and so does a patch of its decoded fields', async () => {
      const file = fileRecord('f-decode', A);
      await store.files.insert(file);
      assert.deepEqual(await store.files.findForUser(A, file.id), file);
      const patch = { has_cover: false, presets: ['opus-96k'], waveform: [0, 17, 255, 3], status: 'completed' as const, progress: 100 };
      assert.equal(await store.files.update(file.id, patch), true);
      assert.deepEqual(await store.files.findById(file.id), { ...file, ...patch });
      assert.equal(await store.files.update(file.id, { waveform: null }), true);
      assert.equal((await store.files.findById(file.id))?.waveform, null);
    });

    it('files: listed newest first, only the owner\'s; a foreign id finds nothing and deletes nothing', async () => {
      await store.files.insert(fileRecord('f-old', B, { created_at: 1 }));
      await store.files.insert(fileRecord('f-new', B, { created_at: 2 }));
      assert.deepEqual((await store.files.listForUser(B)).map((f) => f.id), ['f-new', 'f-old']);
      assert.equal(await store.files.findForUser(A, 'f-new'), undefined);
      assert.equal(await store.files.deleteForUser(A, 'f-new'), false);
      assert.ok(await store.files.findById('f-new'), 'still there');
      assert.equal(await store.files.deleteForUser(B, 'f-new'), true);
      assert.equal(await store.files.findById('f-new'), undefined);
    });

    it('files: a guarded update changes the row only while its generation and status still hold', async () => {
      await store.files.insert(fileRecord('f-guard', A, { generation: 2, status: 'running' }));
      assert.equal(await store.files.update('f-guard', { progress: 50 }, { generation: 1 }), false, 'an older generation');
      assert.equal(await store.files.update('f-guard', { progress: 50 }, { statusIn: ['queued'] }), false, 'another status');
      assert.equal((await store.files.findById('f-guard'))?.progress, 0);
      assert.equal(await store.files.update('f-guard', { progress: 50 }, { generation: 2, statusIn: ['queued', 'running'] }), true);
      assert.equal((await store.files.findById('f-guard'))?.progress, 50);
      assert.equal(await store.files.update('no-such-file', { progress: 1 }), false);
    });

    it('outputs: an upsert replaces the output of the same preset; listed per file and per set of files', async () => {
      await store.files.insert(fileRecord('f-out', A));
      const output = { file_id: 'f-out', preset_id: 'flac-cd', blob_key: 'files/f-out/g1/flac-cd.flac', size: 4_000_000_000, duration_ms: 600_000, bit_rate: 900_000, created_at: 5 };
      await store.outputs.upsert(output);
      await store.outputs.upsert({ ...output, size: 123, created_at: 6 });
      await store.outputs.upsert({ ...output, preset_id: 'wav-44k-16', blob_key: 'files/f-out/g1/wav-44k-16.wav', created_at: 7 });
      assert.deepEqual(await store.outputs.find('f-out', 'flac-cd'), { ...output, size: 123, created_at: 6 });
      assert.deepEqual((await store.outputs.listForFile('f-out')).map((o) => o.preset_id), ['flac-cd', 'wav-44k-16']);
      assert.equal((await store.outputs.listForFiles(['f-out', 'f-decode'])).length, 2);
      assert.deepEqual(await store.outputs.listForFiles([]), []);
      await store.outputs.deleteForFile('f-out');
      assert.deepEqual(await store.outputs.listForFile('f-out'), []);
    });

    it('notifications: one per dedupe key; dismissing is scoped to the owner', async () => {
      const n = notificationRecord('n-1', A);
      assert.equal(await store.notifications.insertOnce(n), true);
      assert.equal(await store.notifications.insertOnce({ ...n, id: 'n-1-again' }), false, 'same dedupe key');
      assert.equal(await store.notifications.insertOnce(notificationRecord('n-2', A, { created_at: 2_000_000_000_000 })), true);
      assert.equal(await store.notifications.insertOnce(notificationRecord('n-b', B)), true);
      assert.deepEqual((await store.notifications.listForUser(A, { unreadOnly: true, limit: 10 })).map((x) => x.id), ['n-2', 'n-1']);
      assert.equal(await store.notifications.dismiss(B, 'n-1', 99), undefined, 'a foreign id');
      assert.equal((await store.notifications.listForUser(A, { unreadOnly: true, limit: 10 })).length, 2, 'still unread');
      assert.deepEqual(await store.notifications.dismiss(A, 'n-1', 99), { ...n, dismissed_at: 99 });
      assert.equal((await store.notifications.dismiss(A, 'n-1', 100))?.dismissed_at, 99, 'dismissing twice keeps the first time');
      assert.deepEqual(await store.notifications.dismissAll(A, 101), ['n-2']);
      assert.deepEqual((await store.notifications.listForUser(B, { unreadOnly: true, limit: 10 })).map((x) => x.id), ['n-b']);
      assert.equal((await store.notifications.listForUser(A, { unreadOnly: false, limit: 1 })).length, 1, 'the limit holds');
    });

    it('tokens: found by hash until expired or deleted; read-only is a boolean; scoped to the owner', async () => {
      const base = { userId: A, name: 'CI', prefix: 'rp_ab', createdAt: 10, expiresAt: null, readOnly: true };
      await store.tokens.create({ ...base, id: 't-ro', tokenHash: 'hash-ro' });
      await store.tokens.create({ ...base, id: 't-exp', tokenHash: 'hash-exp', readOnly: false, createdAt: 11, expiresAt: 1_000 });
      assert.deepEqual(await store.tokens.findUsable('hash-ro', 999), { ...base, id: 't-ro', lastUsedAt: null }, 'as it was before this use');
      assert.equal((await store.tokens.listForUser(A)).find((t) => t.id === 't-ro')?.lastUsedAt, 999, 'the use is noted');
      assert.equal((await store.tokens.findUsable('hash-exp', 999))?.readOnly, false);
      assert.equal(await store.tokens.findUsable('hash-exp', 1_000), undefined, 'expired');
      assert.deepEqual((await store.tokens.listForUser(A)).map((t) => t.id), ['t-exp', 't-ro']);
      assert.deepEqual(await store.tokens.listForUser(B), []);
      assert.equal(await store.tokens.deleteForUser(B, 't-ro'), false, 'a foreign id');
      assert.ok(await store.tokens.findUsable('hash-ro', 2_000));
      assert.equal(await store.tokens.deleteForUser(A, 't-ro'), true);
      assert.equal(await store.tokens.findUsable('hash-ro', 2_000), undefined);
    });

    it('webhook endpoints: events and enabled round-trip; a foreign id finds, changes and removes nothing', async () => {
      const endpoint = endpointRecord('e-1', A);
      await store.webhookEndpoints.insert(endpoint);
      assert.deepEqual(await store.webhookEndpoints.findForUser(A, 'e-1'), endpoint);
      assert.equal(await store.webhookEndpoints.findForUser(B, 'e-1'), undefined);
      assert.equal(await store.webhookEndpoints.update(B, 'e-1', { enabled: false, url: 'https://evil.example/' }), false);
      assert.equal(await store.webhookEndpoints.remove(B, 'e-1'), false);
      assert.deepEqual(await store.webhookEndpoints.findById('e-1'), endpoint, 'unchanged');
      assert.deepEqual((await store.webhookEndpoints.enabledForUser(A)).map((e) => e.id), ['e-1']);
      const patch = { events: [], enabled: false, disabled_reason: 'turned off', updated_at: 20 };
      assert.equal(await store.webhookEndpoints.update(A, 'e-1', patch), true);
      assert.deepEqual(await store.webhookEndpoints.findById('e-1'), { ...endpoint, ...patch });
      assert.deepEqual(await store.webhookEndpoints.enabledForUser(A), []);
      assert.deepEqual((await store.webhookEndpoints.listForUser(A)).map((e) => e.id), ['e-1']);
      assert.deepEqual(await store.webhookEndpoints.listForUser(B), []);
    });

    it('webhook deliveries: stored whole, updated in place, listed newest first', async () => {
      await store.webhookEndpoints.insert(endpointRecord('e-2', B));
      const first = deliveryRecord('msg_1', 'e-2', B, { created_at: 1 });
      await store.webhookDeliveries.insert(first);
      await store.webhookDeliveries.insert(deliveryRecord('msg_2', 'e-2', B, { created_at: 2 }));
      assert.deepEqual(await store.webhookDeliveries.findById('msg_1'), first);
      const patch = { state: 'succeeded' as const, attempts: 1, last_status: 204, last_duration_ms: 12, next_attempt_at: null };
      await store.webhookDeliveries.update('msg_1', patch);
      assert.deepEqual(await store.webhookDeliveries.findById('msg_1'), { ...first, ...patch });
      assert.deepEqual((await store.webhookDeliveries.listForEndpoint('e-2', 10)).map((d) => d.id), ['msg_2', 'msg_1']);
      assert.equal((await store.webhookDeliveries.listForEndpoint('e-2', 1)).length, 1);
    });

    it('events: ids grow, data round-trips, each user reads only their own', async () => {
      const data = { name: 'Sóng — “live”', ids: [1, 2], nested: { ok: true, none: null } };
      const a1 = await store.events.insert({ userId: A, type: 'file.updated', data, createdAt: 1 });
      const b1 = await store.events.insert({ userId: B, type: 'notification.created', data: { n: 1 }, createdAt: 2 });
      const a2 = await store.events.insert({ userId: A, type: 'notification.dismissed', data: { ids: ['x'] }, createdAt: 3_000_000_000_000 });
      assert.ok(a1 < b1 && b1 < a2);
      assert.deepEqual(await store.events.listSince(A, 0, 10), [{ id: a1, type: 'file.updated', data }, { id: a2, type: 'notification.dismissed', data: { ids: ['x'] } }]);
      assert.deepEqual((await store.events.listSince(A, a1, 10)).map((e) => e.id), [a2]);
      assert.equal(await store.events.latestId(B), b1);
      assert.equal(await store.events.latestId('nobody'), 0);
      assert.equal(await store.events.pruneBefore(3), 2);
      assert.deepEqual((await store.events.listSince(A, 0, 10)).map((e) => e.id), [a2]);
    });

    it('resumable uploads and sessions: owners, counts, expiry', async () => {
      await store.resumableUploads.insert({ id: 'up-1', user_id: A, size: null, created_at: 1 });
      await store.resumableUploads.insert({ id: 'up-2', user_id: A, size: 6_000_000_000, created_at: 5 });
      assert.equal(await store.resumableUploads.ownerOf('up-1'), A);
      assert.equal(await store.resumableUploads.ownerOf('up-x'), undefined);
      assert.equal(await store.resumableUploads.countForUser(A), 2);
      assert.equal(await store.resumableUploads.countForUser(B), 0);
      assert.deepEqual(await store.resumableUploads.removeOlderThan(5), ['up-1']);
      await store.sessions.save({ sid: 's-1', userId: A, data: '{"a":1}', expiresAt: 100 });
      await store.sessions.save({ sid: 's-1', userId: A, data: '{"a":2}', expiresAt: 200 });
      await store.sessions.save({ sid: 's-2', userId: null, data: '{}', expiresAt: 50 });
      assert.equal(await store.sessions.find('s-1', 150), '{"a":2}', 'the second save replaced the first');
      assert.equal(await store.sessions.find('s-2', 50), undefined, 'expired');
      assert.equal(await store.sessions.removeExpired(50), 1);
      await store.sessions.remove('s-1');
      assert.equal(await store.sessions.find('s-1', 0), undefined);
    });

    it('user presets: the spec round-trips; a foreign id finds, changes and deletes nothing; a file keeps its snapshot', async () => {
      const spec = { label: 'Mono Opus', codec: 'opus' as const, bitRate: 64_000, channels: 1 as const };
      await store.userPresets.insert({ id: 'u-1', user_id: A, spec, created_at: 1, updated_at: 1 });
      await store.userPresets.insert({ id: 'u-2', user_id: A, spec: { label: 'FLAC', codec: 'flac' }, created_at: 2, updated_at: 2 });
      assert.deepEqual(await store.userPresets.findForUser(A, 'u-1'), { id: 'u-1', user_id: A, spec, created_at: 1, updated_at: 1 });
      assert.deepEqual((await store.userPresets.listForUser(A)).map((p) => p.id), ['u-1', 'u-2']);
      assert.equal(await store.userPresets.countForUser(A), 2);
      assert.equal(await store.userPresets.findForUser(B, 'u-1'), undefined);
      assert.equal(await store.userPresets.update(B, 'u-1', { spec: { label: 'x', codec: 'wav' }, updated_at: 3 }), false);
      assert.equal(await store.userPresets.deleteForUser(B, 'u-1'), false);
      assert.equal(await store.userPresets.update(A, 'u-1', { spec: { ...spec, bitRate: 32_000 }, updated_at: 3 }), true);
      assert.equal((await store.userPresets.findForUser(A, 'u-1'))?.spec.bitRate, 32_000);
      assert.equal(await store.userPresets.deleteForUser(A, 'u-1'), true);
      assert.equal(await store.userPresets.countForUser(A), 1);

      const snapshot = { id: 'u-1', label: 'Mono Opus', muxer: 'opus', extension: 'opus', mimeType: 'audio/ogg', codec: 'libopus', bitRate: 64_000, allowedRates: [48000], maxChannels: 1, carriesCover: false, lossless: false };
      const file = fileRecord('f-own', A, { presets: ['u-1'], own_presets: [snapshot] });
      await store.files.insert(file);
      assert.deepEqual(await store.files.findById(file.id), file);
    });

    it('retention: choices by user; files by age, per owner or for owners on the default, paged; never deleted under a job', async () => {
      const C = 'user-ret-c';
      const D = 'user-ret-d';
      for (const id of [C, D]) assert.equal(await store.users.create(userRecord(id)), true);
      assert.equal(await store.retention.choiceOf(C), null);
      await store.retention.setChoice(C, 7);
      assert.equal(await store.retention.choiceOf(C), 7);
      assert.deepEqual((await store.retention.choices()).filter((c) => c.userId === C || c.userId === D), [{ userId: C, days: 7 }]);
      const base = 5_000_000_000_000;
      await store.files.insert(fileRecord('r-c1', C, { created_at: base + 1, status: 'completed' }));
      await store.files.insert(fileRecord('r-c2', C, { created_at: base + 2, status: 'running' }));
      await store.files.insert(fileRecord('r-d1', D, { created_at: base + 1, status: 'failed' }));
      await store.files.insert(fileRecord('r-d2', D, { created_at: base + 9, status: 'completed' }));
      const ids = (rows: { id: string }[]) => rows.map((r) => r.id).filter((id) => id.startsWith('r-'));
      assert.deepEqual(ids(await store.retention.candidates({ before: base + 5, userId: C, limit: 10 })), ['r-c1', 'r-c2']);
      assert.deepEqual(ids(await store.retention.candidates({ before: base + 5, limit: 10 })), ['r-d1'], 'owners without a choice only');
      const first = await store.retention.candidates({ before: base + 5, userId: C, limit: 1 });
      assert.deepEqual(ids(await store.retention.candidates({ before: base + 5, userId: C, after: { createdAt: base + 1, id: first[0]?.id ?? '' }, limit: 10 })), ['r-c2']);
      await store.retention.markWarned('r-c1', base + 3);
      assert.deepEqual((await store.retention.candidates({ before: base + 1, userId: C, limit: 1 }))[0], {
        id: 'r-c1', user_id: C, name: 'Song r-c1', status: 'completed', created_at: base + 1, expiry_warned_at: base + 3,
      });
      assert.equal(await store.retention.deleteIfIdle('r-c2'), false, 'its job is running');
      assert.ok(await store.files.findById('r-c2'));
      assert.equal(await store.retention.deleteIfIdle('r-c1'), true);
      assert.equal(await store.files.findById('r-c1'), undefined);
      await store.retention.setChoice(C, null);
      assert.equal(await store.retention.choiceOf(C), null);
    });

    it('transaction: rows and jobs commit together, or neither does', async () => {
      const jobsFor = async (fileId: string) =>
        (await database.db.selectFrom('jobs').select('payload').execute()).filter((j) => j.payload.includes(fileId)).length;
      await store.transaction(async (tx) => {
        await tx.files.insert(fileRecord('f-tx-ok', A));
        await tx.jobs.enqueue({ name: 'transcode', payload: { fileId: 'f-tx-ok', generation: 1 } });
      });
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.files.insert(fileRecord('f-tx-undone', A));
          await tx.jobs.enqueue({ name: 'transcode', payload: { fileId: 'f-tx-undone', generation: 1 } });
          assert.ok(await tx.files.findById('f-tx-undone'), 'visible inside its transaction');
          throw new Error('undo');
        }),
        /undo/,
      );
      assert.ok(await store.files.findById('f-tx-ok'));
      assert.equal(await jobsFor('f-tx-ok'), 1);
      assert.equal(await store.files.findById('f-tx-undone'), undefined);
      assert.equal(await jobsFor('f-tx-undone'), 0);
    });
  });
}
