import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient, PageClient } from './helpers/clients.ts';
import { startServer, type TestServer } from './helpers/server.ts';

type Problem = { code: string; status: number; detail: string; limit?: number; retryAfterSeconds?: number };

describe('per-token API rate limits (API_RATE_LIMIT)', () => {
  let srv: TestServer;
  let alice: ApiClient;
  let bob: ApiClient;

  before(async () => {
    srv = await startServer({ API_RATE_LIMIT: '6' });
    alice = await ApiClient.signUp(srv.url, 'alice');
    bob = await ApiClient.signUp(srv.url, 'bob');
  });
  after(() => srv.close());

  it('answers 429 with Retry-After past the limit, for that token only', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await alice.request('GET', '/files')).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200]);
    const over = await alice.request('GET', '/tokens');
    assert.equal(over.status, 429);
    const retryAfter = Number(over.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${over.headers.get('retry-after')}`);
    assert.match(over.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const problem = (await over.json()) as Problem;
    assert.equal(problem.code, 'rate_limited');
    assert.equal(problem.limit, 6);
    assert.match(problem.detail, /6 a minute/);
    // Writes are counted and refused the same way, before they change anything.
    const upload = await alice.json<Problem>('POST', '/presets', { label: 'Never made', codec: 'mp3', bitRate: 128000 });
    assert.equal(upload.status, 429);

    // Another account, and another token of the same account, have their own allowance.
    assert.equal((await bob.request('GET', '/files')).status, 200);
    const again = await new ApiClient(srv.url).json<{ token: string }>('POST', '/tokens', { username: 'alice', password: 'correct horse battery' });
    assert.equal(again.status, 201);
    const aliceOther = Object.assign(new ApiClient(srv.url), { token: again.body.token });
    assert.equal((await aliceOther.request('GET', '/files')).status, 200);
    const owned = await aliceOther.json<{ presets: { label: string }[] }>('GET', '/presets');
    assert.ok(!owned.body.presets.some((p) => p.label === 'Never made'), 'the refused write did not happen');
  });

  it('does not count anonymous requests, which have their own limits, and keeps serving', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await fetch(`${srv.url}/api/v1/files`)).status, 401);
    assert.equal((await fetch(`${srv.url}/api/v1/openapi.json`)).status, 200);
    assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
  });

  it('counts a signed-in browser by its account', async () => {
    const page = await PageClient.signUp(srv.url, 'dora');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await page.get('/api/v1/files')).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429]);
    // The pages themselves are not the API: they stay usable.
    assert.equal((await page.get('/files')).status, 200);
  });
});
