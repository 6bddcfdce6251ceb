import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { ApiClient, PageClient } from './helpers/clients.ts';
import { startServer, type TestServer } from './helpers/server.ts';

describe('limits that cannot be walked around', () => {
  let srv: TestServer;

  before(async () => {
    // One proxy in front: X-Forwarded-For's last entry is the client. Here the "proxy" is the
    // test itself, which is exactly what an attacker can do when a hop count is set too high.
    srv = await startServer({ LOGIN_RATE_LIMIT: '3', SIGNUP_RATE_LIMIT: '2', TRUST_PROXY: '1' });
  });
  after(() => srv.close());

  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  it('counts the sign-in form and the token route in one per-address limit', async () => {
    const visitor = new PageClient(srv.url);
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) {
      await visitor.get('/login');
      const res = await visitor.fetch('/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...from('10.0.0.1') },
        body: new URLSearchParams({ username: 'nobody', password: 'wrong password', _csrf: visitor.csrf }),
      });
      statuses.push(res.status);
    }
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${srv.url}/api/v1/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...from('10.0.0.1') },
        body: JSON.stringify({ username: 'nobody2', password: 'wrong password' }),
      });
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 429]);
  });

  it('limits failed guesses per account, whatever address they come from', async () => {
    await ApiClient.signUp(srv.url, 'victim');
    const statuses: number[] = [];
    // 5 × LOGIN_RATE_LIMIT failures an hour per account; each guess from a fresh address.
    for (let i = 0; i < 17; i++) {
      const res = await fetch(`${srv.url}/api/v1/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...from(`10.1.${i}.1`) },
        body: JSON.stringify({ username: 'victim', password: `guess number ${i}` }),
      });
      statuses.push(res.status);
    }
    assert.deepEqual(statuses.slice(0, 15), Array(15).fill(401));
    assert.deepEqual(statuses.slice(15), [429, 429]);
    const res = await fetch(`${srv.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...from('10.9.9.9') },
      body: JSON.stringify({ username: 'victim', password: 'still guessing' }),
    });
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) > 0);
  });

  it('rate-limits sign-up per address, on the API and the form', async () => {
    const signUp = (name: string) =>
      fetch(`${srv.url}/api/v1/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...from('10.2.0.1') },
        body: JSON.stringify({ username: name, password: 'correct horse battery' }),
      });
    assert.equal((await signUp('spam1')).status, 201);
    assert.equal((await signUp('spam2')).status, 201);
    const third = await signUp('spam3');
    assert.equal(third.status, 429);
    assert.equal(((await third.json()) as { code: string }).code, 'rate_limited');
    assert.equal((await fetch(`${srv.url}/api/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...from('10.2.0.2') },
      body: JSON.stringify({ username: 'spam4', password: 'correct horse battery' }),
    })).status, 201);
  });

  it('refuses TRUST_PROXY=true with one line naming the setting, and takes hops or addresses', () => {
    assert.throws(() => loadConfig({ TRUST_PROXY: 'true' }), /invalid TRUST_PROXY: .*number of proxies/);
    assert.throws(() => loadConfig({ TRUST_PROXY: '10.0.0.1, nonsense' }), /invalid TRUST_PROXY/);
    assert.throws(() => loadConfig({ TRUST_PROXY: '10.0.0.0/33' }), /invalid TRUST_PROXY/);
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
    assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.1, 172.16.0.0/12, ::1' }).trustProxy, ['10.0.0.1', '172.16.0.0/12', '::1']);
    assert.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
    assert.equal(loadConfig({}).trustProxy, false);
  });
});
