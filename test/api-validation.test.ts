import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from './helpers/clients.ts';
import { startServer, type TestServer } from './helpers/server.ts';

type Problem = { status: number; code: string; detail: string; field?: string; instance?: string };

/** Requests that do not fit a route's schema: a clear problem+json, never a 5xx. */
describe('route schemas validate requests', () => {
  let srv: TestServer;
  let api: ApiClient;
  before(async () => {
    srv = await startServer({ WORKER_CONCURRENCY: '0' });
    api = await ApiClient.signUp(srv.url, 'valerie');
  });
  after(() => srv.close());

  it("answers a body field of the wrong type with 422, the domain's code for it and the field named", async () => {
    const res = await api.json<Problem>('POST', '/webhooks', { url: 5 });
    assert.equal(res.status, 422);
    assert.equal(res.res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.deepEqual([res.body.code, res.body.field, res.body.instance], ['invalid_url', 'url', '/api/v1/webhooks']);
    assert.match(res.body.detail, /"url" must be string/);

    const events = await api.json<Problem>('POST', '/webhooks', { url: 'https://x.example/', events: ['file.completed', 7] });
    assert.deepEqual([events.status, events.body.code, events.body.field], [422, 'invalid_events', 'events']);
  });

  it('answers a body that is not an object with 422 invalid_body', async () => {
    const res = await api.json<Problem>('POST', '/webhooks', [1, 2]);
    assert.deepEqual([res.status, res.body.code], [422, 'invalid_body']);
    assert.match(res.body.detail, /The body must be object/);
  });

  it('checks bodies as sent: a number in a string is not a number', async () => {
    const res = await api.json<Problem>('POST', '/tokens', { name: 'cli', expiresInDays: '7' });
    assert.deepEqual([res.status, res.body.code, res.body.field], [422, 'invalid_expiry', 'expiresInDays']);
    const ok = await api.json<{ expiresAt: string | null }>('POST', '/tokens', { name: 'cli', expiresInDays: null });
    assert.deepEqual([ok.status, ok.body.expiresAt], [201, null]);
  });

  it('answers a query parameter outside its values with 422 invalid_query naming it', async () => {
    const res = await api.json<Problem>('GET', '/notifications?state=bogus');
    assert.deepEqual([res.status, res.body.code, res.body.field], [422, 'invalid_query', 'state']);
    for (const state of ['unread', 'all']) assert.equal((await api.json('GET', `/notifications?state=${state}`)).status, 200, state);
  });

  it('answers an id that cannot be ours with 404, as an unknown one', async () => {
    const created = await api.json<{ id: string }>('POST', '/webhooks', { url: 'https://x.example/' });
    assert.equal(created.status, 201);
    const res = await api.json<Problem>('POST', `/webhooks/${created.body.id}/deliveries/not-a-delivery/replay`);
    assert.deepEqual([res.status, res.body.code], [404, 'not_found']);
    assert.equal((await api.json('POST', `/webhooks/${created.body.id}/deliveries/msg_${'0'.repeat(32)}/replay`)).status, 404);
  });

  it('asks for a token before it looks at the body', async () => {
    const anon = new ApiClient(srv.url);
    const res = await anon.json<Problem>('POST', '/webhooks', { url: 5 });
    assert.deepEqual([res.status, res.body.code], [401, 'unauthenticated']);
  });

  it('serializes answers without dropping what clients read', async () => {
    const created = await api.json<Record<string, unknown>>('POST', '/webhooks', { url: 'https://y.example/', description: 'ci' });
    assert.deepEqual(Object.keys(created.body).sort(), ['createdAt', 'description', 'disabledReason', 'enabled', 'events', 'id', 'secret', 'updatedAt', 'url']);
    assert.match(String(created.body.secret), /^whsec_/);
    const exchanged = await new ApiClient(srv.url).json<Record<string, unknown>>('POST', '/tokens', { username: 'valerie', password: 'correct horse battery' });
    assert.deepEqual(Object.keys(exchanged.body).sort(), ['token', 'tokenType']);
  });
});
