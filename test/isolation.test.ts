import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient, PageClient, type FileJson } from './helpers/clients.ts';
import { fixtures } from './helpers/audio.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { fileWhen } from './helpers/files.ts';

describe('two users are isolated on every route', () => {
  let srv: TestServer;
  let alice: ApiClient;
  let bob: ApiClient;
  let bobPages: PageClient;
  let aliceFile: FileJson;
  let aliceNotification: string;

  before(async () => {
    srv = await startServer();
    alice = await ApiClient.signUp(srv.url, 'alice');
    bob = await ApiClient.signUp(srv.url, 'bob');
    bobPages = new PageClient(srv.url);
    await bobPages.get('/login');
    await bobPages.post('/login', { username: 'bob', password: 'correct horse battery' });
    const up = await alice.upload(await fixtures.wav(), { name: 'Alice private', presets: 'mp3-128k' });
    aliceFile = await fileWhen(alice, up.body.id, (f) => f.status === 'completed', 'alice file');
    const list = await alice.json<{ notifications: { id: string }[] }>('GET', '/notifications');
    aliceNotification = list.body.notifications[0]!.id;
  });
  after(() => srv.close());

  it("hides Alice's file from Bob's listings", async () => {
    assert.deepEqual((await bob.json<{ files: unknown[] }>('GET', '/files')).body.files, []);
    const page = await bobPages.get('/files');
    assert.equal(page.status, 200);
    assert.ok(!page.html.includes('Alice private'));
    assert.equal((await bob.json<{ notifications: unknown[] }>('GET', '/notifications')).body.notifications.length, 0);
    assert.ok(!page.html.includes('has been processed'));
  });

  it("answers 404 to Bob on every API route that names Alice's ids", async () => {
    const id = aliceFile.id;
    const routes: [string, string][] = [
      ['GET', `/files/${id}`],
      ['DELETE', `/files/${id}`],
      ['POST', `/files/${id}/cancel`],
      ['POST', `/files/${id}/retry`],
      ['GET', `/files/${id}/outputs/mp3-128k`],
      ['POST', `/notifications/${aliceNotification}/dismiss`],
    ];
    for (const [method, url] of routes) {
      const res = await bob.json<{ status: number; code: string }>(method, url);
      assert.equal(res.status, 404, `${method} ${url}`);
      assert.equal(res.body.code, 'not_found');
    }
    // Nothing Bob did touched Alice's things.
    const still = await alice.json<FileJson>('GET', `/files/${id}`);
    assert.equal(still.body.status, 'completed');
    const unread = await alice.json<{ notifications: { id: string }[] }>('GET', '/notifications?state=unread');
    assert.ok(unread.body.notifications.some((n) => n.id === aliceNotification));
  });

  it("answers 404 to Bob on every page route that names Alice's ids", async () => {
    const id = aliceFile.id;
    assert.equal((await bobPages.get(`/files/${id}`)).status, 404);
    assert.equal((await bobPages.get(`/files/${id}/outputs/mp3-128k`)).status, 404);
    for (const action of ['cancel', 'retry', 'delete']) {
      assert.equal((await bobPages.post(`/files/${id}/${action}`, {})).status, 404, action);
    }
    assert.equal((await bobPages.post(`/notifications/${aliceNotification}/dismiss`, {})).status, 404);
    const dismissAll = await bobPages.post('/notifications/dismiss-all', {}, { accept: 'application/json' });
    assert.deepEqual(JSON.parse(dismissAll.text), { dismissed: 0 });
    const unread = await alice.json<{ notifications: { id: string }[] }>('GET', '/notifications?state=unread');
    assert.ok(unread.body.notifications.some((n) => n.id === aliceNotification), "Bob's dismiss-all left Alice's alone");
    assert.equal((await alice.json('GET', `/files/${id}`)).status, 200);
  });

  it('answers 404 for unknown ids and unknown presets', async () => {
    assert.equal((await alice.json('GET', '/files/00000000-0000-0000-0000-000000000000')).status, 404);
    assert.equal((await alice.json('GET', `/files/${aliceFile.id}/outputs/flac-cd`)).status, 404, 'not chosen');
    assert.equal((await alice.json('GET', `/files/${aliceFile.id}/outputs/nope`)).status, 404);
    assert.equal((await alice.json('POST', '/notifications/nope/dismiss')).status, 404);
  });

  it('refuses API writes that carry only a session cookie', async () => {
    const res = await bobPages.fetch('/api/v1/notifications/dismiss-all', { method: 'POST' });
    assert.equal(res.status, 401);
  });
});
