import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FileRecord, FileStatus } from '../src/domain/ports.ts';
import { backend } from './helpers/backends.ts';
import { ApiClient, PageClient, type FileJson } from './helpers/clients.ts';
import { fileRecord } from './helpers/records.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const statuses: FileStatus[] = ['queued', 'running', 'completed', 'failed', 'canceled'];
type Page = { files: FileJson[]; next: string | null };

describe(`Files listed a page at a time, and acted on in bulk (${backend.name})`, () => {
  let srv: TestServer;
  let alice: ApiClient;
  let bob: ApiClient;
  let alicePages: PageClient;
  let aliceFiles: FileRecord[];
  let bobFile: FileRecord;

  const userId = async (username: string) => {
    const user = await srv.app.deps.store.users.findByUsername(username);
    assert.ok(user);
    return user.id;
  };
  /** The expected order: newest first, equal times by id. */
  const newestFirst = (files: readonly FileRecord[]) =>
    [...files].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((f) => f.id);

  const walk = async (client: ApiClient, query: string) => {
    const pages: Page[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/files?${query}${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`;
      const res = await client.json<Page>('GET', url);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      pages.push(res.body);
      cursor = res.body.next;
    } while (cursor && pages.length < 10);
    return pages;
  };
  const stored = (id: string) => srv.app.deps.store.files.findById(id);
  const form = (fields: [string, string][]) => ({
    method: 'POST',
    body: new URLSearchParams(fields),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });

  before(async () => {
    srv = await startServer();
    alice = await ApiClient.signUp(srv.url, 'alice');
    bob = await ApiClient.signUp(srv.url, 'bob');
    alicePages = new PageClient(srv.url);
    await alicePages.get('/login');
    await alicePages.post('/login', { username: 'alice', password: 'correct horse battery' });
    await alicePages.get('/files');
    const aliceId = await userId('alice');
    // Two files share each time, so the order has ties the cursor must break by id.
    aliceFiles = Array.from({ length: 120 }, (_, i) =>
      fileRecord(randomUUID(), aliceId, {
        name: `Track ${String(i).padStart(3, '0')}`,
        status: statuses[i % statuses.length],
        created_at: 1_700_000_000_000 + Math.floor(i / 2) * 1000,
        updated_at: 1_700_000_000_000,
      }),
    );
    for (const f of aliceFiles) await srv.app.deps.store.files.insert(f);
    bobFile = fileRecord(randomUUID(), await userId('bob'), { status: 'failed' });
    await srv.app.deps.store.files.insert(bobFile);
  });
  after(() => srv.close());

  it('pages of 50, newest first, with no repeats and no gaps', async () => {
    const pages = await walk(alice, 'limit=50');
    assert.deepEqual(pages.map((p) => p.files.length), [50, 50, 20]);
    assert.equal(pages.at(-1)?.next, null);
    assert.deepEqual(pages.flatMap((p) => p.files.map((f) => f.id)), newestFirst(aliceFiles));
    // The default page size is 50 too, and the first answer says where to go on.
    const first = await alice.json<Page>('GET', '/files');
    assert.equal(first.body.files.length, 50);
    assert.equal(typeof first.body.next, 'string');
  });

  it('keeps its place when new files arrive between pages', async () => {
    const first = await alice.json<Page>('GET', '/files?limit=50');
    const newcomer = fileRecord(randomUUID(), await userId('alice'), { created_at: 1_800_000_000_000, updated_at: 1_800_000_000_000 });
    await srv.app.deps.store.files.insert(newcomer);
    try {
      const second = await alice.json<Page>('GET', `/files?limit=50&before=${encodeURIComponent(first.body.next ?? '')}`);
      assert.deepEqual(second.body.files.map((f) => f.id), newestFirst(aliceFiles).slice(50, 100));
    } finally {
      await srv.app.deps.store.files.deleteForUser(newcomer.user_id, newcomer.id);
    }
  });

  it('filters by status, paged the same way', async () => {
    for (const status of statuses) {
      const pages = await walk(alice, `status=${status}&limit=10`);
      const ids = pages.flatMap((p) => p.files.map((f) => f.id));
      assert.deepEqual(ids, newestFirst(aliceFiles.filter((f) => f.status === status)), status);
      assert.ok(pages.flatMap((p) => p.files).every((f) => f.status === status));
    }
  });

  it('refuses a bad status, limit or cursor with a problem naming it', async () => {
    for (const [query, code] of [
      ['status=done', 'invalid_status'],
      ['limit=0', 'invalid_limit'],
      ['limit=201', 'invalid_limit'],
      ['limit=ten', 'invalid_query'],
      ['before=bm90LWEtY3Vyc29y', 'invalid_cursor'],
    ]) {
      const res = await alice.json<{ code: string }>('GET', `/files?${query}`);
      assert.equal(res.status, 422, query);
      assert.equal(res.body.code, code, query);
      assert.match(res.res.headers.get('content-type') ?? '', /problem\+json/);
    }
  });

  it("shows only the caller's files", async () => {
    const pages = await walk(bob, 'limit=50');
    assert.deepEqual(pages.flatMap((p) => p.files.map((f) => f.id)), [bobFile.id]);
  });

  it('deletes and retries a selection over the API, only when every id is the caller\'s', async () => {
    const [failed, canceled, completed] = ['failed', 'canceled', 'completed'].map((s) => aliceFiles.find((f) => f.status === s && f.name.endsWith('0') === false) as FileRecord);
    assert.ok(failed && canceled && completed);

    // A foreign id anywhere in the list: 404, and nothing changes, the caller's own files included.
    const foreignRetry = await bob.json<{ code: string }>('POST', '/files/retry', { ids: [bobFile.id, failed.id] });
    assert.equal(foreignRetry.status, 404);
    assert.equal((await stored(bobFile.id))?.generation, 1);
    const foreignDelete = await alice.json<{ code: string }>('POST', '/files/delete', { ids: [failed.id, bobFile.id] });
    assert.equal(foreignDelete.status, 404);
    assert.equal(foreignDelete.body.code, 'not_found');
    assert.ok(await stored(failed.id), 'nothing deleted');
    assert.ok(await stored(bobFile.id));

    const retried = await alice.json<{ retried: string[]; skipped: string[] }>('POST', '/files/retry', { ids: [failed.id, canceled.id, completed.id] });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.deepEqual(retried.body, { retried: [failed.id, canceled.id], skipped: [completed.id] });
    assert.equal((await stored(failed.id))?.generation, 2);
    assert.equal((await stored(completed.id))?.generation, 1);

    const victims = aliceFiles.slice(0, 2).map((f) => f.id);
    const deleted = await alice.json<{ deleted: string[] }>('POST', '/files/delete', { ids: victims });
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.body.deleted, victims);
    for (const id of victims) assert.equal(await stored(id), undefined);
    aliceFiles = aliceFiles.filter((f) => !victims.includes(f.id));

    for (const [body, code] of [[{}, 'no_files_chosen'], [{ ids: [] }, 'no_files_chosen'], [{ ids: 'x' }, 'invalid_ids'], [{ ids: [1] }, 'invalid_ids']] as const) {
      const res = await alice.json<{ code: string }>('POST', '/files/delete', body);
      assert.equal(res.status, 422, JSON.stringify(body));
      assert.equal(res.body.code, code, JSON.stringify(body));
    }
  });

  it('pages, filters and acts on a selection on the files page without JavaScript', async () => {
    const first = await alicePages.get('/files');
    assert.equal(first.html.match(/name="ids" value=/g)?.length, 50);
    const older = /<a href="([^"]+)" rel="next">/.exec(first.html)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(older, 'an Older link');
    assert.ok(!/rel="prev"/.test(first.html), 'no Newer link on the newest page');
    const second = await alicePages.get(older);
    const secondIds = [...second.html.matchAll(/name="ids" value="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(secondIds, newestFirst(aliceFiles).slice(50, 100));
    const newer = /<a href="([^"]+)" rel="prev">/.exec(second.html)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(newer, 'a Newer link');
    const back = await alicePages.get(newer);
    assert.deepEqual([...back.html.matchAll(/name="ids" value="([^"]+)"/g)].map((m) => m[1]), newestFirst(aliceFiles).slice(0, 50));

    const completedOnly = await alicePages.get('/files?status=completed');
    const shown = [...completedOnly.html.matchAll(/name="ids" value="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(shown, newestFirst(aliceFiles.filter((f) => f.status === 'completed')));
    assert.match(completedOnly.html, /href="\/files\?status=completed" aria-current="page"/);

    const [a, b] = shown as [string, string];
    const forged = await alicePages.fetch('/files/delete', form([['ids', a]]));
    assert.equal(forged.status, 403);
    const foreign = await alicePages.fetch('/files/delete', form([['ids', a], ['ids', bobFile.id], ['_csrf', alicePages.csrf]]));
    assert.equal(foreign.status, 404);
    assert.ok(await stored(a), 'nothing deleted when one id is foreign');

    const res = await alicePages.fetch('/files/delete', form([['ids', a], ['ids', b], ['status', 'completed'], ['_csrf', alicePages.csrf]]));
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/files?status=completed');
    const after = await alicePages.get('/files?status=completed');
    assert.match(after.html, /2 files deleted with their outputs/);
    assert.ok(!after.html.includes(a) && !after.html.includes(b));
    assert.equal(await stored(a), undefined);

    const canceled = aliceFiles.filter((f) => f.status === 'canceled').at(-1);
    assert.ok(canceled);
    assert.equal((await stored(canceled.id))?.generation, 1, 'not retried before');
    const retry = await alicePages.fetch('/files/retry', form([['ids', canceled.id], ['_csrf', alicePages.csrf]]));
    assert.equal(retry.status, 303);
    assert.match((await alicePages.get('/files')).html, /1 file queued again/);
    assert.equal((await stored(canceled.id))?.generation, 2);
  });
});
