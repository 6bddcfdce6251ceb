import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { fixtures } from './helpers/audio.ts';
import { ApiClient, type FileJson } from './helpers/clients.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { startReceiver, type Received } from './helpers/webhook-receiver.ts';
import { limitFixtures } from './unit/limit-fixtures.ts';

interface Endpoint { id: string; url: string; events: string[]; enabled: boolean; secret?: string; disabledReason: string | null }
interface Delivery { id: string; eventType: string; state: string; attempts: number; lastStatus: number | null; nextAttemptAt: string | null }

/** Verifies with the standardwebhooks package: an implementation that is not ours. */
function verified(secret: string, r: Received): { type: string; timestamp: string; data: Record<string, unknown> } {
  const headers = { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) };
  return new Webhook(secret).verify(r.body, headers) as { type: string; timestamp: string; data: Record<string, unknown> };
}

const done = (api: ApiClient, id: string) =>
  waitFor(`file ${id} to end`, async () => {
    const f = await api.json<FileJson>('GET', `/files/${id}`);
    return ['completed', 'failed', 'canceled'].includes(f.body.status) ? f.body : undefined;
  });

describe('webhooks', () => {
  let srv: TestServer;
  let api: ApiClient;
  let other: ApiClient;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  type Answer = { status: number; headers?: Record<string, string> };
  let answers: ((r: Received) => Answer) | undefined;

  before(async () => {
    receiver = await startReceiver((r) => answers?.(r) ?? { status: 204 });
    srv = await startServer({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '0.3,0.3,0.3', MAX_INPUT_SECONDS: '500' });
    api = await ApiClient.signUp(srv.url, 'hooked');
    other = await ApiClient.signUp(srv.url, 'otherhook');
  });
  after(async () => {
    await srv.close();
    await receiver.close();
  });

  const create = async (client: ApiClient, body: object) => {
    const res = await client.json<Endpoint>('POST', '/webhooks', body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };
  const at = (p: string) => receiver.received.filter((r) => r.path === p);

  it('manages endpoints; the secret is shown once; another user sees 404', async () => {
    const e = await create(api, { url: `${receiver.url}/crud`, events: ['file.completed'], description: 'CRUD' });
    assert.match(e.secret ?? '', /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(e.events, ['file.completed']);
    const list = await api.json<{ webhooks: Endpoint[] }>('GET', '/webhooks');
    assert.equal(list.body.webhooks.length, 1);
    assert.equal(JSON.stringify(list.body).includes('whsec_'), false);
    const one = await api.json<Endpoint>('GET', `/webhooks/${e.id}`);
    assert.equal(one.body.secret, undefined);
    const patched = await api.json<Endpoint>('PATCH', `/webhooks/${e.id}`, { events: [], enabled: false });
    assert.deepEqual([patched.body.events, patched.body.enabled], [[], false]);
    for (const [method, p] of [['GET', ''], ['PATCH', ''], ['DELETE', ''], ['GET', '/deliveries'], ['POST', '/test'], ['POST', '/rotate-secret'], ['POST', '/deliveries/msg_00000000000000000000000000000000/replay']] as const) {
      const res = await other.json(method, `/webhooks/${e.id}${p}`, method === 'PATCH' ? { enabled: true } : undefined);
      assert.equal(res.status, 404, `${method} ${p}`);
    }
    const rotated = await api.json<Endpoint>('POST', `/webhooks/${e.id}/rotate-secret`);
    assert.notEqual(rotated.body.secret, e.secret);
    assert.equal((await api.json('DELETE', `/webhooks/${e.id}`)).status, 204);
    assert.equal((await api.json('GET', `/webhooks/${e.id}`)).status, 404);
  });

  it('refuses bad input with 422', async () => {
    for (const body of [{}, { url: 'ftp://x.example/' }, { url: 'not a url' }, { url: 'https://u:p@x.example/' }, { url: 'https://x.example/', events: ['file.exploded'] }, { url: 'https://x.example/', events: 'file.completed' }]) {
      const res = await api.json<{ code: string }>('POST', '/webhooks', body);
      assert.equal(res.status, 422, JSON.stringify(body));
    }
  });

  it('signs file.completed with the file resource as GET shows it, verified independently', async () => {
    const e = await create(api, { url: `${receiver.url}/completed` });
    const up = await api.upload(await fixtures.wav(), { presets: 'mp3-128k' });
    const file = await done(api, up.body.id);
    assert.equal(file.status, 'completed');
    const r = await waitFor('the webhook', async () => at('/completed')[0], 10_000);
    const event = verified(e.secret as string, r);
    assert.equal(event.type, 'file.completed');
    const current = await api.json<FileJson>('GET', `/files/${up.body.id}`);
    assert.deepEqual(event.data, JSON.parse(JSON.stringify(current.body)));
    assert.match(String(r.headers['webhook-id']), /^msg_[0-9a-f]{32}$/);
    assert.throws(() => verified('whsec_' + Buffer.alloc(32, 1).toString('base64'), r), 'a wrong secret must not verify');
    const deliveries = await api.json<{ deliveries: Delivery[] }>('GET', `/webhooks/${e.id}/deliveries`);
    assert.equal(deliveries.body.deliveries[0]?.state, 'succeeded');
    assert.equal(deliveries.body.deliveries[0]?.id, r.headers['webhook-id']);
    await api.json('DELETE', `/webhooks/${e.id}`);
  });

  it('sends file.failed with the reason, and file.canceled, only to endpoints that want them', async () => {
    const failed = await create(api, { url: `${receiver.url}/failed`, events: ['file.failed', 'file.canceled'] });
    const lying = await limitFixtures(await mkdtemp(path.join(os.tmpdir(), 'reprise-hook-'))).lyingFlac();
    const up = await api.upload(lying, { presets: 'flac-cd' });
    assert.equal((await done(api, up.body.id)).status, 'failed');
    const r = await waitFor('file.failed', async () => at('/failed')[0], 10_000);
    const event = verified(failed.secret as string, r);
    assert.equal(event.type, 'file.failed');
    assert.match(String(event.data.error), /runs past/);

    const long = await api.upload(await fixtures.long(), { presets: 'aac-256k' });
    await api.json('POST', `/files/${long.body.id}/cancel`);
    const c = await waitFor('file.canceled', async () => at('/failed').find((x) => JSON.parse(x.body).type === 'file.canceled'), 10_000);
    assert.equal((verified(failed.secret as string, c).data as { status: string }).status, 'canceled');
    assert.equal(at('/failed').filter((x) => JSON.parse(x.body).type === 'file.completed').length, 0);
    await api.json('DELETE', `/webhooks/${failed.id}`);
  });

  it('retries failures under the same webhook-id, honours Retry-After, never follows redirects', async () => {
    let calls = 0;
    answers = (r): Answer => {
      if (r.path === '/elsewhere') return { status: 200 };
      if (r.path !== '/flaky') return { status: 204 };
      calls++;
      if (calls === 1) return { status: 302, headers: { location: '/elsewhere' } };
      if (calls === 2) return { status: 429, headers: { 'retry-after': '2' } };
      return calls === 3 ? { status: 500 } : { status: 200 };
    };
    const e = await create(api, { url: `${receiver.url}/flaky` });
    const test = await api.json<{ deliveryId: string }>('POST', `/webhooks/${e.id}/test`);
    assert.equal(test.status, 202);
    await waitFor('4 attempts', async () => (at('/flaky').length >= 4 ? true : undefined), 15_000);
    const attempts = at('/flaky');
    assert.equal(new Set(attempts.map((a) => a.headers['webhook-id'])).size, 1);
    assert.equal(attempts[0]?.headers['webhook-id'], test.body.deliveryId);
    assert.ok((attempts[2]?.at ?? 0) - (attempts[1]?.at ?? 0) >= 1900, 'Retry-After: 2 was not honoured');
    assert.equal(at('/elsewhere').length, 0, 'a redirect was followed');
    for (const a of attempts) assert.equal(verified(e.secret as string, a).type, 'webhook.test');
    const d = await waitFor('succeeded', async () => {
      const list = await api.json<{ deliveries: Delivery[] }>('GET', `/webhooks/${e.id}/deliveries`);
      return list.body.deliveries[0]?.state === 'succeeded' ? list.body.deliveries[0] : undefined;
    });
    assert.equal(d.attempts, 4);
    const replay = await api.json<Delivery>('POST', `/webhooks/${e.id}/deliveries/${d.id}/replay`);
    assert.equal(replay.status, 202);
    await waitFor('the replay', async () => (at('/flaky').length >= 5 ? true : undefined), 10_000);
    assert.equal(at('/flaky')[4]?.headers['webhook-id'], d.id);
    answers = undefined;
    await api.json('DELETE', `/webhooks/${e.id}`);
  });

  it('disables an endpoint at a 410, and after the whole schedule fails, telling its owner', async () => {
    answers = (r): Answer => (r.path === '/gone' ? { status: 410 } : r.path === '/down' ? { status: 503 } : { status: 204 });
    const gone = await create(api, { url: `${receiver.url}/gone` });
    await api.json('POST', `/webhooks/${gone.id}/test`);
    const off = await waitFor('disabled', async () => {
      const g = await api.json<Endpoint>('GET', `/webhooks/${gone.id}`);
      return g.body.enabled ? undefined : g.body;
    }, 10_000);
    assert.match(off.disabledReason ?? '', /410/);
    assert.equal(at('/gone').length, 1);

    const down = await create(api, { url: `${receiver.url}/down` });
    await api.json('POST', `/webhooks/${down.id}/test`);
    await waitFor('disabled after the schedule', async () => ((await api.json<Endpoint>('GET', `/webhooks/${down.id}`)).body.enabled ? undefined : true), 15_000);
    assert.equal(at('/down').length, 4, 'one try and three retries');
    const notes = await api.json<{ notifications: { message: string }[] }>('GET', '/notifications');
    assert.ok(notes.body.notifications.some((n) => n.message.includes(`${receiver.url}/down`) && /disabled/.test(n.message)));
    assert.ok(notes.body.notifications.some((n) => n.message.includes(`${receiver.url}/gone`)));
    assert.equal((await api.json('POST', `/webhooks/${down.id}/test`)).status, 409);
    const back = await api.json<Endpoint>('PATCH', `/webhooks/${down.id}`, { enabled: true });
    assert.deepEqual([back.body.enabled, back.body.disabledReason], [true, null]);
    answers = undefined;
  });
});

describe('webhooks: the SSRF guard', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer();
  });
  after(() => srv.close());

  it('refuses internal addresses at creation with a clear 422', async () => {
    const api = await ApiClient.signUp(srv.url, 'ssrf');
    for (const url of ['http://127.0.0.1:9/', 'http://localhost/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://169.254.169.254/latest/meta-data/', 'http://10.1.2.3/', 'http://192.168.0.1/', 'http://100.64.0.1/', 'http://[fd00::1]/', 'http://[fe80::1]/', 'http://0.0.0.0/', 'http://224.0.0.1/']) {
      const res = await api.json<{ code: string; detail: string }>('POST', '/webhooks', { url });
      assert.equal(res.status, 422, url);
      assert.equal(res.body.code, 'webhook_url_forbidden', url);
    }
    assert.equal((await api.json('POST', '/webhooks', { url: 'https://hooks.example.com/reprise' })).status, 201);
  });

  it('checks the address actually connected to: a name that resolves to loopback is not reached', async () => {
    const receiver = await startReceiver();
    try {
      const send = srv.app.deps.webhookSender.send({ url: `http://localhost:${receiver.port}/x`, headers: {}, body: '{}', timeoutMs: 2_000 });
      await assert.rejects(send, /may not reach/);
      assert.equal(receiver.received.length, 0);
    } finally {
      await receiver.close();
    }
  });
});
