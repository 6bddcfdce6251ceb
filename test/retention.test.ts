import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runRetentionSweep, scheduleRetentionSweep } from '../src/domain/retention-sweep.ts';
import { fixtures } from './helpers/audio.ts';
import { backend } from './helpers/backends.ts';
import { ApiClient, PageClient, type FileJson } from './helpers/clients.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { fileEnded, fileWhen } from './helpers/files.ts';
import { bytesHeldFor } from './helpers/stored-bytes.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;

interface Notice {
  kind: string;
  fileId: string | null;
  message: string;
}
type Setting = { days: number | null; instanceDays: number | null; effectiveDays: number | null; maxDays: number };
type WithExpiry = FileJson & { expiresAt: string | null };

/**
 * Retention on a real server (RETENTION_DAYS=30). Time moves by the clock handed to the sweep, or
 * by ageing rows in the database; the sweep that the queue runs is tested with aged rows.
 */
describe(`retention (${backend.name})`, () => {
  let srv: TestServer;
  let ana: ApiClient;
  let bob: ApiClient;

  before(async () => {
    srv = await startServer({ RETENTION_DAYS: '30', WORKER_CONCURRENCY: '1' });
    ana = await ApiClient.signUp(srv.url, 'ana');
    bob = await ApiClient.signUp(srv.url, 'bob');
  });
  after(() => srv.close());

  const sweep = (now: number) => runRetentionSweep(srv.app.deps, now);
  const held = (id: string) => bytesHeldFor(srv.env, srv.dataDir, id);
  const getFile = (client: ApiClient, id: string) => client.json<WithExpiry>('GET', `/files/${id}`);
  const expiring = async (client: ApiClient, id: string) =>
    (await client.json<{ notifications: Notice[] }>('GET', '/notifications')).body.notifications.filter((n) => n.kind === 'expiring' && n.fileId === id);
  const uploaded = async (client: ApiClient, presets = 'flac-cd,mp3-128k', input?: string) => {
    const up = await client.upload(input ?? (await fixtures.wav()), { presets });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const done = await fileEnded<WithExpiry>(client, up.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    return done;
  };
  const age = (id: string, set: { createdAt?: number; warnedAt?: number }) =>
    srv.app.db
      .updateTable('files')
      .set({ ...(set.createdAt === undefined ? {} : { created_at: set.createdAt }), ...(set.warnedAt === undefined ? {} : { expiry_warned_at: set.warnedAt }) })
      .where('id', '=', id)
      .execute();
  const signedInPage = async (username: string) => {
    const page = new PageClient(srv.url);
    await page.get('/login');
    const res = await page.post('/login', { username, password: 'correct horse battery' });
    assert.equal(res.status, 303);
    return page;
  };
  /** What a stored file holds, at least: its source and each output. */
  const expectHeld = async (f: FileJson) => {
    const now = await held(f.id);
    const least = f.outputs.reduce((sum, o) => sum + o.size, 0);
    assert.ok(now.bytes > least, `${now.bytes} bytes held for ${f.id}, its outputs alone are ${least}`);
    return now;
  };

  it('shows when each file goes, on the file resource, the list and the file page; the settings say why', async () => {
    const setting = await ana.json<Setting>('GET', '/settings/retention');
    assert.deepEqual(setting.body, { days: null, instanceDays: 30, effectiveDays: 30, maxDays: 30 });
    const f = await uploaded(ana);
    const expected = new Date(Date.parse(f.createdAt) + 30 * DAY).toISOString();
    assert.equal(f.expiresAt, expected);
    const list = await ana.json<{ files: WithExpiry[] }>('GET', '/files');
    assert.equal(list.body.files.find((x) => x.id === f.id)?.expiresAt, expected);
    const page = await signedInPage('ana');
    assert.match((await page.get(`/files/${f.id}`)).html, new RegExp(`data-expires-at="${expected}"`));
    assert.match((await page.get('/settings')).html, /deleted <strong>30 days<\/strong> after upload/);
  });

  it("leaves other users' files alone: a foreign id is 404 and its bytes stay", async () => {
    const f = await uploaded(ana);
    const before = await expectHeld(f);
    assert.equal((await bob.request('DELETE', `/files/${f.id}`)).status, 404);
    assert.equal((await bob.json('POST', '/files/delete', { ids: [f.id] })).status, 404);
    assert.deepEqual(await held(f.id), before);
    assert.equal((await getFile(ana, f.id)).status, 200);
  });

  it('notifies the owner exactly once a day before, then deletes the file and frees its bytes', async () => {
    const f = await uploaded(ana);
    const created = Date.parse(f.createdAt);
    const before = await expectHeld(f);
    assert.deepEqual((await sweep(created + 28 * DAY)).notified.filter((id) => id === f.id), [], 'two days before: nothing yet');

    const dayBefore = created + 29 * DAY + HOUR;
    // Several sweeps at once (several workers), then more later: one notice in all.
    const runs = await Promise.all([sweep(dayBefore), sweep(dayBefore), sweep(dayBefore)]);
    runs.push(await sweep(dayBefore + HOUR), await sweep(dayBefore + 2 * HOUR));
    assert.equal(runs.flatMap((r) => r.notified).filter((id) => id === f.id).length, 1);
    const notices = await expiring(ana, f.id);
    assert.equal(notices.length, 1);
    assert.match(notices[0]?.message ?? '', /will be deleted tomorrow/);
    // A day's notice in full: the file goes a day after the notice, not at 30 days sharp.
    assert.equal((await getFile(ana, f.id)).body.expiresAt, new Date(dayBefore + DAY).toISOString());

    assert.deepEqual((await sweep(created + 30 * DAY)).deleted.filter((id) => id === f.id), []);
    assert.deepEqual(await held(f.id), before);
    const gone = await sweep(dayBefore + DAY);
    assert.ok(gone.deleted.includes(f.id));
    assert.equal((await getFile(ana, f.id)).status, 404);
    assert.deepEqual(await held(f.id), { places: [], bytes: 0 });
    // The owner's open pages hear of it like of any deletion.
    const user = await srv.app.deps.store.users.findByUsername('ana');
    const events = await srv.app.deps.store.events.listSince(user?.id ?? '', 0, 10_000);
    assert.ok(events.some((e) => e.type === 'file.updated' && (e.data as { id?: string; status?: string }).id === f.id && (e.data as { status?: string }).status === 'deleted'));
  });

  it("a user's own shorter choice applies to that user's files only", async () => {
    const saved = await bob.json<Setting>('PUT', '/settings/retention', { days: 7 });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.deepEqual(saved.body, { days: 7, instanceDays: 30, effectiveDays: 7, maxDays: 30 });
    const mine = await uploaded(bob);
    const theirs = await uploaded(ana);
    assert.equal(mine.expiresAt, new Date(Date.parse(mine.createdAt) + 7 * DAY).toISOString());
    assert.equal(theirs.expiresAt, new Date(Date.parse(theirs.createdAt) + 30 * DAY).toISOString());

    const dayBefore = Date.parse(mine.createdAt) + 6 * DAY + HOUR;
    const warned = await sweep(dayBefore);
    assert.ok(warned.notified.includes(mine.id));
    assert.ok(!warned.notified.includes(theirs.id));
    const gone = await sweep(dayBefore + DAY);
    assert.ok(gone.deleted.includes(mine.id));
    assert.ok(!gone.deleted.includes(theirs.id));
    assert.deepEqual(await held(mine.id), { places: [], bytes: 0 });
    await expectHeld(theirs);
    assert.equal((await bob.json<Setting>('PUT', '/settings/retention', { days: null })).body.effectiveDays, 30);
  });

  it("a choice that makes old files due gives a day's notice first; the queued sweep deletes", async () => {
    const f = await uploaded(bob);
    await age(f.id, { createdAt: Date.parse(f.createdAt) - 10 * DAY });
    // Saving the choice queues a sweep at once: the notice arrives through the queue.
    assert.equal((await bob.json('PUT', '/settings/retention', { days: 7 })).status, 200);
    await waitFor('the notice', async () => ((await expiring(bob, f.id)).length === 1 ? true : undefined));
    const expires = Date.parse((await getFile(bob, f.id)).body.expiresAt ?? '');
    assert.ok(expires > Date.now() + 23 * HOUR, `expires ${new Date(expires).toISOString()}: a day after the notice`);
    assert.deepEqual((await sweep(Date.now() + 12 * HOUR)).deleted.filter((id) => id === f.id), []);

    // The notice was two days ago: the next run of the queued sweep deletes it.
    await age(f.id, { warnedAt: Date.now() - 2 * DAY });
    await scheduleRetentionSweep(srv.app.deps);
    await waitFor('deletion by the queued sweep', async () => ((await getFile(bob, f.id)).status === 404 ? true : undefined));
    // The row goes first and the bytes right after, in the worker: wait for them, then check.
    await waitFor('its bytes gone', async () => ((await held(f.id)).bytes === 0 ? true : undefined), 10_000).catch(() => undefined);
    assert.deepEqual(await held(f.id), { places: [], bytes: 0 });
    await bob.json('PUT', '/settings/retention', { days: null });
  });

  it('refuses a choice over RETENTION_DAYS or not a whole number of days with 422, on the API and the page; read-only tokens only read', async () => {
    for (const body of [{ days: 31 }, { days: 0 }, { days: -3 }, { days: 2.5 }, { days: 'seven' }, { days: true }, {}]) {
      const res = await ana.json<{ code: string; field?: string }>('PUT', '/settings/retention', body);
      assert.equal(res.status, 422, JSON.stringify(body));
      assert.equal(res.body.code, 'invalid_retention', JSON.stringify(body));
      assert.equal(res.body.field, 'days', JSON.stringify(body));
    }
    assert.equal((await ana.json<Setting>('GET', '/settings/retention')).body.days, null, 'nothing refused was saved');
    const reader = new ApiClient(srv.url);
    reader.token = (await ana.json<{ token: string }>('POST', '/tokens', { name: 'reader', readOnly: true })).body.token;
    assert.equal((await reader.json('GET', '/settings/retention')).status, 200);
    assert.equal((await reader.json('PUT', '/settings/retention', { days: 3 })).status, 403, 'a read-only token');
    assert.equal((await new ApiClient(srv.url).json('PUT', '/settings/retention', { days: 3 })).status, 401);
    const page = await signedInPage('ana');
    await page.get('/settings');
    const refused = await page.post('/settings/retention', { days: '45' });
    assert.equal(refused.status, 422);
    assert.match(refused.text, /from 1 to 30/);
    const saved = await page.post('/settings/retention', { days: '12' });
    assert.equal(saved.status, 303);
    assert.equal((await ana.json<Setting>('GET', '/settings/retention')).body.effectiveDays, 12);
    assert.equal((await page.post('/settings/retention', { days: '' })).status, 303);
    assert.equal((await ana.json<Setting>('GET', '/settings/retention')).body.days, null);
  });

  it('does not delete a file while its job runs; the first sweep after the job ends does', async () => {
    const up = await ana.upload(await fixtures.longWav(), { presets: 'aac-256k,opus-96k,mp3-v0' });
    assert.equal(up.status, 201);
    const created = Date.parse(up.body.createdAt);
    await fileWhen(ana, up.body.id, (f) => f.status === 'running', 'the job to run');
    const dayBefore = created + 29 * DAY + HOUR;
    assert.ok((await sweep(dayBefore)).notified.includes(up.body.id), 'the notice does not wait for the job');
    const due = await sweep(dayBefore + DAY);
    assert.ok(due.postponed.includes(up.body.id), JSON.stringify(due));
    const done = await fileEnded<WithExpiry>(ana, up.body.id, 180_000);
    assert.equal(done.status, 'completed', done.error ?? '');
    await expectHeld(done);
    assert.ok((await sweep(dayBefore + DAY + HOUR)).deleted.includes(up.body.id));
    assert.deepEqual(await held(up.body.id), { places: [], bytes: 0 });
  });
});
