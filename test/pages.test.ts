import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { PageClient } from './helpers/clients.ts';
import { fixtures } from './helpers/audio.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';

async function pageUpload(client: PageClient, file: string, opts: { csrf?: string; presets?: string[] } = {}) {
  const form = new FormData();
  form.append('name', 'Page upload');
  for (const p of opts.presets ?? ['mp3-128k']) form.append('presets', p);
  form.append('file', new Blob([await readFile(file)]), 'page.wav');
  const token = opts.csrf ?? client.csrf;
  return client.fetch(`/files?_csrf=${encodeURIComponent(token)}`, { method: 'POST', body: form });
}

describe('web pages: accounts, CSRF, uploads and notifications', () => {
  let srv: TestServer;

  before(async () => {
    srv = await startServer();
  });
  after(() => srv.close());

  it('signs up, logs out and logs in again, returning to the page asked for', async () => {
    const client = await PageClient.signUp(srv.url, 'carol');
    const files = await client.get('/files');
    assert.equal(files.status, 200);
    assert.match(files.html, /Signed in as <strong>carol<\/strong>/);
    assert.match(files.html, /No files yet/);

    const out = await client.post('/logout', {});
    assert.equal(out.status, 303);
    const after = await client.get('/files');
    assert.equal(after.status, 303);
    assert.equal(after.location, '/login?next=%2Ffiles');

    await client.get('/login?next=/files');
    const wrong = await client.post('/login', { username: 'carol', password: 'wrong password', next: '/files' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /Wrong username or password/);
    const back = await client.post('/login', { username: 'carol', password: 'correct horse battery', next: '/files' });
    assert.equal(back.status, 303);
    assert.equal(back.location, '/files');
    await client.get('/login');
    const evil = await client.post('/login', { username: 'carol', password: 'correct horse battery', next: '//evil.example/' });
    assert.equal(evil.location, '/files', 'no open redirect');
  });

  it('stores passwords as argon2id hashes', async () => {
    const row = await srv.app.db.selectFrom('users').select('password_hash').where('username', '=', 'carol').executeTakeFirstOrThrow();
    assert.match(row.password_hash, /^\$argon2id\$/);
  });

  it('refuses state-changing forms without a valid CSRF token', async () => {
    const client = await PageClient.signUp(srv.url, 'dave');
    const noToken = await client.post('/logout', {}, { csrf: false });
    assert.equal(noToken.status, 403);
    assert.match(noToken.text, /form expired or did not come from this site/);
    const forged = await client.post('/notifications/dismiss-all', { _csrf: 'forged' }, { csrf: false });
    assert.equal(forged.status, 403);
    const upload = await pageUpload(client, await fixtures.wav(), { csrf: 'forged' });
    assert.equal(upload.status, 403);
    const stranger = new PageClient(srv.url);
    await stranger.get('/login');
    const crossSite = await stranger.post('/login', { username: 'dave', password: 'correct horse battery' }, { csrf: false });
    assert.equal(crossSite.status, 403);
    assert.equal((await client.get('/files')).status, 200, 'still signed in');
  });

  it('uploads from the page form, shows the notification on every page, and dismisses it', async () => {
    const client = await PageClient.signUp(srv.url, 'erin');
    const res = await pageUpload(client, await fixtures.wav());
    assert.equal(res.status, 303);
    const fileUrl = res.headers.get('location') ?? '';
    assert.match(fileUrl, /^\/files\/[0-9a-f-]{36}$/);
    const id = fileUrl.split('/').pop() ?? '';
    const page = await client.get(fileUrl);
    assert.match(page.html, /Page upload/);

    const done = await waitFor('completion', async () => {
      const p = await client.get(fileUrl);
      return p.html.includes('data-file-status="completed"') ? p : undefined;
    });
    assert.match(done.html, new RegExp(`href="/files/${id}/outputs/mp3-128k"`), 'download link once the output exists');
    assert.match(done.html, /<audio controls/);
    assert.match(done.html, /Your file Page upload has been processed\./);
    assert.match((await client.get('/files')).html, /Your file Page upload has been processed\./, 'shown on every page');

    const n = await srv.app.db.selectFrom('notifications').select('id').where('file_id', '=', id).executeTakeFirstOrThrow();
    const dismissed = await client.post(`/notifications/${n.id}/dismiss`, { next: '/files' });
    assert.equal(dismissed.status, 303);
    assert.equal(dismissed.location, '/files');
    assert.doesNotMatch((await client.get('/files')).html, /has been processed/);
  });

  it('dismisses all at once, and answers JSON to the page script', async () => {
    const client = await PageClient.signUp(srv.url, 'frank');
    for (let i = 0; i < 2; i++) await pageUpload(client, await fixtures.wav());
    await waitFor('two notifications', async () => {
      const p = await client.get('/files');
      return (p.html.match(/data-notification-id=/g) ?? []).length === 2 ? true : undefined;
    });
    assert.match((await client.get('/files')).html, /Dismiss all/);
    const res = await client.post('/notifications/dismiss-all', {}, { accept: 'application/json' });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.text), { dismissed: 2 });
    assert.doesNotMatch((await client.get('/files')).html, /data-notification-id=/);
  });

  it('shows why an upload was refused, on the page', async () => {
    const client = await PageClient.signUp(srv.url, 'grace');
    const res = await pageUpload(client, await fixtures.playlist());
    assert.equal(res.status, 422);
    assert.match(await res.text(), /Playlists and concat lists are not accepted/);
  });

  it('sends an expired session back to the login page', async () => {
    const client = await PageClient.signUp(srv.url, 'heidi');
    await srv.app.db.updateTable('sessions').set({ expires_at: Date.now() - 1000 }).execute();
    const res = await client.get('/files');
    assert.equal(res.status, 303);
    assert.match(res.location ?? '', /^\/login/);
    const api = await client.fetch('/api/v1/files', { method: 'GET' });
    assert.equal(api.status, 401);
  });

  it('keeps sessions in the database, so they survive a restart', async () => {
    const rows = await srv.app.db.selectFrom('sessions').select('sid').execute();
    assert.ok(rows.length > 0);
  });

  it('rate-limits login attempts', async () => {
    const own = await startServer({ LOGIN_RATE_LIMIT: '5' });
    after(() => own.close());
    const client = new PageClient(own.url);
    await client.get('/login');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await client.post('/login', { username: 'nobody', password: 'whatever123' })).status);
    assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
    assert.equal(statuses[6], 429);
  });

  it('renders a friendly 404 page', async () => {
    const res = await new PageClient(srv.url).get('/no/such/page');
    assert.equal(res.status, 404);
    assert.match(res.html, /No such page/);
  });
});
