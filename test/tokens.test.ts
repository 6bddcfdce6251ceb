import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Migrator, sql } from 'kysely';
import { migrationProvider, migrations } from '../src/db/migrations.ts';
import { openPostgres } from '../src/db/postgres.ts';
import { openSqlite } from '../src/db/sqlite.ts';
import { createStore } from '../src/db/store.ts';
import { grantForToken } from '../src/domain/tokens.ts';
import { createLogger } from '../src/log.ts';
import { createEmbeddedQueue } from '../src/queue/embedded.ts';
import { fixtures } from './helpers/audio.ts';
import { freshBackendEnv } from './helpers/backends.ts';
import { ApiClient, PageClient, type FileJson } from './helpers/clients.ts';
import { startServer, type TestServer } from './helpers/server.ts';

interface TokenJson { id: string; name: string; prefix: string; createdAt: string; lastUsedAt: string | null; expiresAt: string | null; expired: boolean; readOnly: boolean; token?: string; code?: string }
type Problem = { code: string; status: number };

const DAY = 86_400_000;
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('API tokens people manage', () => {
  let srv: TestServer;
  let alice: ApiClient;
  let bob: ApiClient;
  let aliceFile: FileJson;

  const withToken = (token: string) => Object.assign(new ApiClient(srv.url), { token });
  const make = (client: ApiClient, body: object) => client.json<TokenJson>('POST', '/tokens', body);
  const list = async (client: ApiClient) => (await client.json<{ tokens: TokenJson[] }>('GET', '/tokens')).body.tokens;

  before(async () => {
    srv = await startServer();
    alice = await ApiClient.signUp(srv.url, 'alice');
    bob = await ApiClient.signUp(srv.url, 'bob');
    aliceFile = (await alice.upload(await fixtures.wav(), { presets: 'mp3-128k' })).body;
  });
  after(() => srv.close());

  it('creates a named, expiring, read-only token; the list shows its metadata and never the token', async () => {
    const res = await make(alice, { name: '  CI \u202Ereader\n', expiresInDays: 30, readOnly: true });
    assert.equal(res.status, 201);
    const t = res.body;
    assert.equal(t.name, 'CI reader', 'cleaned: controls and bidi overrides gone, spaces folded');
    assert.match(t.token ?? '', /^rp_[A-Za-z0-9_-]{43}$/);
    assert.equal(t.prefix, t.token?.slice(0, 10));
    assert.equal(t.readOnly, true);
    assert.equal(Date.parse(t.expiresAt ?? '') - Date.parse(t.createdAt), 30 * DAY);

    const { status, body } = await withToken(t.token ?? '').json<{ files: FileJson[] }>('GET', '/files');
    assert.equal(status, 200, 'the new token works');
    assert.deepEqual(body.files.map((f) => f.id), [aliceFile.id]);

    const raw = await alice.request('GET', '/tokens');
    const text = await raw.text();
    assert.ok(!text.includes(t.token ?? '-'), 'the token itself is never listed');
    assert.ok(!/hash/i.test(text), 'nor its hash');
    const listed = (JSON.parse(text) as { tokens: TokenJson[] }).tokens;
    const row = listed.find((x) => x.id === t.id);
    assert.deepEqual(row, { id: t.id, name: 'CI reader', prefix: t.prefix, createdAt: t.createdAt, lastUsedAt: row?.lastUsedAt, expiresAt: t.expiresAt, expired: false, readOnly: true });
    assert.ok(row?.lastUsedAt, 'using the token noted when');
    assert.equal(listed[0]?.id, t.id, 'newest first');
    assert.ok(listed.some((x) => x.name === 'Password exchange' && !x.readOnly && x.expiresAt === null), 'the sign-up exchange is listed too');
  });

  it('refuses bad names, expiries and read-only flags with 422 naming the field', async () => {
    const cases: [object, string][] = [
      [{}, 'invalid_token_name'],
      [{ name: '' }, 'invalid_token_name'],
      [{ name: ' \u0000\u202E\t ' }, 'invalid_token_name'],
      [{ name: 'x'.repeat(101) }, 'invalid_token_name'],
      [{ name: 42 }, 'invalid_token_name'],
      [{ name: 'ok', expiresInDays: 0 }, 'invalid_expiry'],
      [{ name: 'ok', expiresInDays: 3651 }, 'invalid_expiry'],
      [{ name: 'ok', expiresInDays: 1.5 }, 'invalid_expiry'],
      [{ name: 'ok', expiresInDays: '30' }, 'invalid_expiry'],
      [{ name: 'ok', readOnly: 'yes' }, 'invalid_read_only'],
    ];
    const before = (await list(alice)).length;
    for (const [body, code] of cases) {
      const res = await alice.json<Problem>('POST', '/tokens', body);
      assert.deepEqual([res.status, res.body.code], [422, code], JSON.stringify(body));
    }
    assert.equal((await list(alice)).length, before, 'nothing was made');
    const emoji = await make(alice, { name: '🎵'.repeat(100), expiresInDays: 3650 });
    assert.equal(emoji.status, 201, '100 code points is the limit, not 100 UTF-16 units');
    assert.equal((await alice.json('DELETE', `/tokens/${emoji.body.id}`)).status, 204);
  });

  it('a read-only token reads everything and changes nothing (403 read_only_token)', async () => {
    const ro = withToken((await make(alice, { name: 'reader', readOnly: true })).body.token ?? '');
    const other = (await make(alice, { name: 'other' })).body;
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(1000)]), 'x.wav');
    const writes: [string, string, unknown?][] = [
      ['POST', '/files', form],
      ['DELETE', `/files/${aliceFile.id}`],
      ['POST', `/files/${aliceFile.id}/cancel`],
      ['POST', `/files/${aliceFile.id}/retry`],
      ['POST', '/tokens', { name: 'escalate' }],
      ['DELETE', `/tokens/${other.id}`],
      ['POST', `/notifications/${UNKNOWN}/dismiss`],
      ['POST', '/notifications/dismiss-all'],
    ];
    for (const [method, url, body] of writes) {
      const res = await ro.request(method, url, body);
      assert.equal(res.status, 403, `${method} ${url}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(((await res.json()) as Problem).code, 'read_only_token');
    }
    for (const url of ['/files', `/files/${aliceFile.id}`, '/notifications', '/tokens', '/presets']) {
      assert.equal((await ro.json('GET', url)).status, 200, url);
    }
    assert.equal((await alice.json('GET', `/files/${aliceFile.id}`)).status, 200, 'the file is still there');
    assert.ok((await list(alice)).some((t) => t.id === other.id), 'the other token is still there');
    assert.ok(!(await list(alice)).some((t) => t.name === 'escalate'));
  });

  it('a revoked token answers 401 on the next request, on every web process', async () => {
    // A second web process on the same database: it has used the token before the revoke.
    const second = await startServer({ ...srv.env, DATA_DIR: srv.dataDir, WORKER_CONCURRENCY: '0' });
    try {
      const t = (await make(alice, { name: 'to revoke' })).body;
      const here = withToken(t.token ?? '');
      const there = Object.assign(new ApiClient(second.url), { token: t.token ?? '' });
      assert.equal((await here.json('GET', '/files')).status, 200);
      assert.equal((await there.json('GET', '/files')).status, 200);
      assert.equal((await alice.json('DELETE', `/tokens/${t.id}`)).status, 204);
      for (const client of [here, there]) {
        const res = await client.json<Problem>('GET', '/files');
        assert.deepEqual([res.status, res.body.code], [401, 'invalid_token']);
      }
      assert.ok(!(await list(alice)).some((x) => x.id === t.id), 'gone from the list');
      assert.equal((await alice.json('DELETE', `/tokens/${t.id}`)).status, 404, 'revoking twice');
    } finally {
      await second.close();
    }
  });

  it('an expired token answers 401 and stays listed as expired', async () => {
    const t = (await make(alice, { name: 'short-lived', expiresInDays: 1 })).body;
    const client = withToken(t.token ?? '');
    assert.equal((await client.json('GET', '/files')).status, 200);
    await srv.app.db.updateTable('api_tokens').set({ expires_at: Date.now() - 1000 }).where('id', '=', t.id).execute();
    const res = await client.json<Problem>('GET', '/files');
    assert.deepEqual([res.status, res.body.code], [401, 'invalid_token']);
    assert.equal((await list(alice)).find((x) => x.id === t.id)?.expired, true);
  });

  it("another user's token id is unknown: 404 on DELETE, absent from their list", async () => {
    const t = (await make(alice, { name: 'mine' })).body;
    const res = await bob.json<Problem>('DELETE', `/tokens/${t.id}`);
    assert.deepEqual([res.status, res.body.code], [404, 'not_found']);
    assert.ok(!(await list(bob)).some((x) => x.id === t.id || x.name === 'mine'));
    assert.equal((await withToken(t.token ?? '').json('GET', '/files')).status, 200, "Alice's token still works");
    assert.equal((await alice.json('DELETE', `/tokens/${UNKNOWN}`)).status, 404);
    assert.equal((await alice.json('DELETE', '/tokens/not-a-uuid')).status, 404);
  });

  it('exchanges a username and password without credentials, as before; a cookie alone makes no token', async () => {
    const anon = new ApiClient(srv.url);
    const ok = await anon.json('POST', '/tokens', { username: 'alice', password: 'correct horse battery' });
    assert.equal(ok.status, 201);
    assert.deepEqual(Object.keys(ok.body).sort(), ['token', 'tokenType']);
    assert.equal((await withToken(String(ok.body.token)).json('GET', '/files')).status, 200);
    const wrong = await anon.json<Problem>('POST', '/tokens', { username: 'alice', password: 'wrong password' });
    assert.deepEqual([wrong.status, wrong.body.code], [401, 'invalid_credentials']);
    const bogus = await withToken('rp_bogus').json<Problem>('POST', '/tokens', { username: 'alice', password: 'correct horse battery' });
    assert.deepEqual([bogus.status, bogus.body.code], [401, 'invalid_token'], 'with a header it is token creation, and that token is bad');

    const pages = new PageClient(srv.url);
    await pages.get('/login');
    await pages.post('/login', { username: 'alice', password: 'correct horse battery' });
    const before = (await list(alice)).length;
    const cookieOnly = await pages.fetch('/api/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'from a cookie' }) });
    assert.equal(cookieOnly.status, 401);
    assert.equal((await list(alice)).length, before);
  });

  it('keeps the sign-in throttle on the exchange, and does not count token creation against it', async () => {
    const limited = await startServer({ LOGIN_RATE_LIMIT: '2' });
    try {
      const carol = await ApiClient.signUp(limited.url, 'carol'); // one exchange
      for (let i = 0; i < 3; i++) assert.equal((await make(carol, { name: `t${i}` })).status, 201);
      const anon = new ApiClient(limited.url);
      const statuses = [];
      for (let i = 0; i < 2; i++) statuses.push((await anon.json('POST', '/tokens', { username: 'carol', password: 'correct horse battery' })).status);
      assert.deepEqual(statuses, [201, 429]);
    } finally {
      await limited.close();
    }
  });

  describe('the settings page', () => {
    let page: PageClient;
    before(async () => {
      page = new PageClient(srv.url);
      await page.get('/login');
      await page.post('/login', { username: 'alice', password: 'correct horse battery' });
    });

    it('asks visitors to sign in', async () => {
      const res = await new PageClient(srv.url).get('/settings');
      assert.deepEqual([res.status, res.location], [303, '/login?next=%2Fsettings']);
    });

    it('creates a token with the form, shows it once, lists it after, and revokes it', async () => {
      const settings = await page.get('/settings');
      assert.equal(settings.status, 200);
      assert.match(settings.html, /<a href="\/settings" aria-current="page">Settings<\/a>/);
      const created = await page.post('/settings/tokens', { name: '<b>NAS</b> backup', expiresInDays: '90', readOnly: '1' });
      assert.equal(created.status, 200);
      const token = /value="(rp_[A-Za-z0-9_-]{43})"/.exec(created.text)?.[1];
      assert.ok(token, 'the new token is on the page');
      assert.match(created.text, /will not be shown again/);
      assert.match(created.text, /&lt;b&gt;NAS&lt;\/b&gt; backup/, 'names are escaped');
      assert.ok(!created.text.includes('<b>NAS</b>'));

      const listed = (await list(alice)).find((t) => t.prefix === token.slice(0, 10));
      assert.ok(listed);
      assert.deepEqual([listed.name, listed.readOnly, Date.parse(listed.expiresAt ?? '') - Date.parse(listed.createdAt)], ['<b>NAS</b> backup', true, 90 * DAY]);
      assert.equal((await withToken(token).json('GET', '/files')).status, 200);
      assert.equal((await withToken(token).json('DELETE', `/files/${aliceFile.id}`)).status, 403, 'read-only from the checkbox');

      const again = await page.get('/settings');
      assert.ok(!again.html.includes(token), 'shown once only');
      assert.ok(again.html.includes(`${token.slice(0, 10)}…`), 'the prefix is listed');
      assert.match(again.html, new RegExp(`action="/settings/tokens/${listed.id}/revoke"`));

      const revoked = await page.post(`/settings/tokens/${listed.id}/revoke`, {});
      assert.deepEqual([revoked.status, revoked.location], [303, '/settings']);
      assert.match((await page.get('/settings')).html, /The token was revoked/);
      assert.equal((await withToken(token).json('GET', '/files')).status, 401);
    });

    it('answers the form with the reason when the name or expiry is wrong', async () => {
      const before = (await list(alice)).length;
      const noName = await page.post('/settings/tokens', { name: '   ', expiresInDays: '' });
      assert.equal(noName.status, 422);
      assert.match(noName.text, /role="alert">Give the token a name/);
      const badExpiry = await page.post('/settings/tokens', { name: 'kept in the form', expiresInDays: 'soon' });
      assert.equal(badExpiry.status, 422);
      assert.match(badExpiry.text, /whole number of days/);
      assert.match(badExpiry.text, /value="kept in the form"/);
      assert.equal((await list(alice)).length, before);
    });

    it('refuses forms without a CSRF token, and revoking what is not yours', async () => {
      const before = await list(alice);
      const create = await page.post('/settings/tokens', { name: 'forged' }, { csrf: false });
      assert.equal(create.status, 403);
      const target = before[0];
      assert.ok(target);
      const revoke = await page.post(`/settings/tokens/${target.id}/revoke`, { _csrf: 'forged' }, { csrf: false });
      assert.equal(revoke.status, 403);
      assert.deepEqual((await list(alice)).map((t) => t.id), before.map((t) => t.id), 'nothing made or revoked');

      const bobPage = new PageClient(srv.url);
      await bobPage.get('/login');
      await bobPage.post('/login', { username: 'bob', password: 'correct horse battery' });
      await bobPage.get('/settings');
      assert.equal((await bobPage.post(`/settings/tokens/${target.id}/revoke`, {})).status, 404);
      assert.ok((await list(alice)).some((t) => t.id === target.id));
    });
  });
});

describe('tokens issued before names and expiry existed', () => {
  it('keep working after the migration, as full-access, never-expiring "API token"', async () => {
    const env = await freshBackendEnv();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-tokens-'));
    const pg = env.DATABASE_URL ? openPostgres(env.DATABASE_URL, 2) : undefined;
    const db = pg?.db ?? openSqlite(path.join(dir, 'old.sqlite'));
    try {
      const names = Object.keys(migrations);
      const previous = names[names.indexOf('0005_managed_tokens') - 1];
      assert.ok(previous);
      const migrator = new Migrator({ db, provider: migrationProvider });
      assert.equal((await migrator.migrateTo(previous)).error, undefined);
      const token = 'rp_from-an-older-version';
      const hash = createHash('sha256').update(token).digest('hex');
      await sql`INSERT INTO users (id, username, password_hash, created_at) VALUES ('u1', 'old', 'x', 0)`.execute(db);
      await sql`INSERT INTO api_tokens (id, user_id, token_hash, created_at, last_used_at) VALUES ('t1', 'u1', ${hash}, 5, NULL)`.execute(db);
      assert.equal((await migrator.migrateToLatest()).error, undefined);

      const store = createStore(db, createEmbeddedQueue(db, createLogger('silent')).jobsWithin);
      assert.deepEqual(await grantForToken({ store, now: Date.now }, token), { tokenId: 't1', userId: 'u1', readOnly: false });
      const [row] = await store.tokens.listForUser('u1');
      assert.deepEqual({ ...row, lastUsedAt: row?.lastUsedAt !== null }, { id: 't1', userId: 'u1', name: 'API token', prefix: '', createdAt: 5, lastUsedAt: true, expiresAt: null, readOnly: false });
    } finally {
      await db.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
