import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { PageClient } from './helpers/clients.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { startReceiver, type Received } from './helpers/webhook-receiver.ts';

interface Endpoint { id: string; url: string; events: string[]; enabled: boolean; disabledReason: string | null }
type Fields = [string, string][];

const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const secretIn = (html: string) => /value="(whsec_[A-Za-z0-9+/]{43}=)"[^>]*data-new-secret/.exec(html)?.[1];
const deliveryRows = (html: string) => [...html.matchAll(/data-delivery-id="(msg_[0-9a-f]{32})" data-state="(\w+)"/g)].map((m) => ({ id: m[1] ?? '', state: m[2] ?? '' }));
const webhookId = (r: Received | undefined) => String(r?.headers['webhook-id']);

/** Verifies with the standardwebhooks package, an implementation that is not ours; throws if it does not verify. */
function verify(secret: string, r: Received) {
  const headers = { 'webhook-id': webhookId(r), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) };
  return new Webhook(secret).verify(r.body, headers) as { type: string; data: Record<string, unknown> };
}

describe('webhook endpoints on the settings pages', () => {
  let srv: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let alice: PageClient;
  let bob: PageClient;
  let endpointId = '';
  let secret = '';
  let firstDelivery = '';

  /** A form post with repeated fields (checkboxes), as a browser sends it; `_csrf` unless told otherwise. */
  const post = async (client: PageClient, url: string, fields: Fields = [], csrf: string | false = client.csrf) => {
    const body = new URLSearchParams(csrf === false ? fields : [...fields, ['_csrf', csrf]]);
    const res = await client.fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    return { status: res.status, location: res.headers.get('location'), cache: res.headers.get('cache-control'), html: await res.text() };
  };
  const endpointsOf = async (client: PageClient) => {
    const res = await client.fetch('/api/v1/webhooks', { method: 'GET' });
    return ((await res.json()) as { webhooks: Endpoint[] }).webhooks;
  };
  const at = (path: string) => receiver.received.filter((r) => r.path === path);
  const pageOf = (id = endpointId) => alice.get(`/settings/webhooks/${id}`);
  const stateOf = (deliveryId: string, state: string) =>
    waitFor(`${deliveryId} to be ${state}`, async () => {
      const { html } = await pageOf();
      return deliveryRows(html).find((d) => d.id === deliveryId && d.state === state) ? html : undefined;
    }, 10_000);

  before(async () => {
    receiver = await startReceiver();
    srv = await startServer({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '0.2,0.2' });
    alice = await PageClient.signUp(srv.url, 'hookpages');
    bob = await PageClient.signUp(srv.url, 'hookpeeker');
  });
  after(async () => {
    await srv.close();
    await receiver.close();
  });

  it('adds an endpoint through the form and shows its secret once, with no-store', async () => {
    const empty = await alice.get('/settings');
    assert.match(empty.html, /No webhook endpoints yet/);
    const res = await post(alice, '/settings/webhooks', [['url', `${receiver.url}/a`], ['description', '<b>Publish</b>'], ['events', 'file.completed'], ['events', 'file.failed']]);
    assert.equal(res.status, 200);
    assert.equal(res.cache, 'no-store');
    secret = secretIn(res.html) ?? '';
    assert.match(secret, /^whsec_/, 'the secret is shown');
    assert.match(res.html, /new Webhook\(secret\)\.verify/, 'with a note on verifying it');
    assert.match(res.html, /&lt;b&gt;Publish&lt;\/b&gt;/, 'the description is escaped');
    const [listed] = await endpointsOf(alice);
    assert.deepEqual([listed?.url, listed?.events, listed?.enabled], [`${receiver.url}/a`, ['file.completed', 'file.failed'], true], 'the same endpoint the API shows');
    endpointId = listed?.id ?? '';
    assert.match(res.html, new RegExp(`data-webhook-id="${endpointId}"[^]*file\\.completed, file\\.failed[^]*Enabled`));

    const again = await alice.get('/settings');
    assert.equal(again.html.includes(secret), false, 'not shown again');
    assert.equal(secretIn(again.html), undefined);
    assert.match(again.html, new RegExp(`href="/settings/webhooks/${endpointId}"`));
    const reload = await alice.get('/settings/webhooks');
    assert.deepEqual([reload.status, reload.location], [303, '/settings#webhooks']);
  });

  it('refuses a bad URL or event with the reason, keeps what was typed, adds nothing', async () => {
    const bad = await post(alice, '/settings/webhooks', [['url', 'ftp://files.example/hook'], ['description', 'kept'], ['events', 'file.canceled']]);
    assert.equal(bad.status, 422);
    assert.match(bad.html, /role="alert">Webhook URLs must use http or https\./);
    assert.match(bad.html, /name="url"[^>]*value="ftp:\/\/files\.example\/hook"/);
    assert.match(bad.html, /name="description"[^>]*value="kept"/);
    assert.match(bad.html, /value="file\.canceled" checked/);
    assert.doesNotMatch(bad.html, /value="file\.completed" checked/);
    assert.equal(secretIn(bad.html), undefined);
    const forged = await post(alice, '/settings/webhooks', [['url', 'https://hooks.example/'], ['events', 'file.exploded']]);
    assert.equal(forged.status, 422);
    assert.match(forged.html, /Unknown event type: file\.exploded/);
    assert.equal((await post(alice, '/settings/webhooks', [])).status, 422, 'no URL at all');
    assert.equal((await endpointsOf(alice)).length, 1, 'nothing was added');
  });

  it('sends a test event from the page: it arrives signed and is listed as delivered', async () => {
    const res = await post(alice, `/settings/webhooks/${endpointId}/test`);
    assert.deepEqual([res.status, res.location], [303, `/settings/webhooks/${endpointId}`]);
    const page = await pageOf();
    firstDelivery = /A test event was queued as (msg_[0-9a-f]{32})/.exec(page.html)?.[1] ?? '';
    assert.ok(firstDelivery, 'the page says which webhook-id was queued');
    assert.equal(deliveryRows(page.html)[0]?.id, firstDelivery, 'and lists it first');
    const arrived = await waitFor('the test event', async () => at('/a')[0], 10_000);
    assert.equal(webhookId(arrived), firstDelivery);
    assert.equal(verify(secret, arrived).type, 'webhook.test', 'signed with the secret the form showed');
    const html = await stateOf(firstDelivery, 'succeeded');
    const row = html.slice(html.indexOf(`data-delivery-id="${firstDelivery}"`)).split('</tr>')[0] ?? '';
    assert.match(row, /webhook\.test[^]*data-attempts="1">1 attempt<[^]*HTTP 204/);
  });

  it('turns the endpoint off (reason shown, tests refused with 409) and back on', async () => {
    assert.equal((await post(alice, `/settings/webhooks/${endpointId}/disable`)).status, 303);
    const off = await pageOf();
    assert.match(off.html, /This endpoint is off:[^]*turned off by its owner/);
    assert.match(off.html, /Turn back on/);
    assert.doesNotMatch(off.html, /Send test event/);
    assert.match((await alice.get('/settings')).html, /Disabled<\/span> <small class="disabled-reason">Turned off by its owner/);
    assert.deepEqual((await endpointsOf(alice)).map((e) => [e.enabled, e.disabledReason]), [[false, 'turned off by its owner']]);

    const before = at('/a').length;
    const test = await post(alice, `/settings/webhooks/${endpointId}/test`);
    assert.equal(test.status, 409);
    assert.match(test.html, /role="alert">Turn the endpoint back on before testing it\./);
    assert.match(test.html, /<h1 class="webhook-url">/, 'the endpoint page, not an error page');
    const replay = await post(alice, `/settings/webhooks/${endpointId}/deliveries/${firstDelivery}/replay`);
    assert.equal(replay.status, 409);
    assert.match(replay.html, /Turn the endpoint back on before replaying/);

    assert.equal((await post(alice, `/settings/webhooks/${endpointId}/enable`)).status, 303);
    const on = await pageOf();
    assert.doesNotMatch(on.html, /This endpoint is off/);
    assert.match(on.html, /Send test event/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(at('/a').length, before, 'nothing was sent while it was off');
  });

  it('replays a delivery under the same webhook-id; unknown deliveries are 404', async () => {
    const res = await post(alice, `/settings/webhooks/${endpointId}/deliveries/${firstDelivery}/replay`);
    assert.deepEqual([res.status, res.location], [303, `/settings/webhooks/${endpointId}`]);
    assert.match((await pageOf()).html, /is being sent again/);
    const again = await waitFor('the replay', async () => at('/a')[1], 10_000);
    assert.equal(webhookId(again), firstDelivery);
    assert.equal(verify(secret, again).type, 'webhook.test');
    for (const id of ['msg_00000000000000000000000000000000', 'nope']) {
      assert.equal((await post(alice, `/settings/webhooks/${endpointId}/deliveries/${id}/replay`)).status, 404, id);
    }
  });

  it('rotates the secret: the new one is shown once and signs from then on', async () => {
    const page = await pageOf();
    assert.match(page.html, /action="[^"]*\/rotate-secret" class="inline" data-confirm=/, 'asks first (with script)');
    const res = await post(alice, `/settings/webhooks/${endpointId}/rotate-secret`);
    assert.equal(res.status, 200);
    assert.equal(res.cache, 'no-store');
    const rotated = secretIn(res.html) ?? '';
    assert.match(rotated, /^whsec_/);
    assert.notEqual(rotated, secret);
    assert.equal((await pageOf()).html.includes(rotated), false, 'not shown again');
    await post(alice, `/settings/webhooks/${endpointId}/test`);
    const sent = await waitFor('a test after rotating', async () => at('/a')[2], 10_000);
    assert.equal(verify(rotated, sent).type, 'webhook.test');
    assert.throws(() => verify(secret, sent), 'the old secret no longer verifies');
    secret = rotated;
  });

  it('changes the address and events; a bad URL is refused with what was typed, changing nothing', async () => {
    const res = await post(alice, `/settings/webhooks/${endpointId}`, [['url', `${receiver.url}/b`], ['description', 'moved'], ['events', 'file.canceled']]);
    assert.deepEqual([res.status, res.location], [303, `/settings/webhooks/${endpointId}`]);
    assert.deepEqual((await endpointsOf(alice)).map((e) => [e.url, e.events]), [[`${receiver.url}/b`, ['file.canceled']]]);
    const bad = await post(alice, `/settings/webhooks/${endpointId}`, [['url', 'not a url'], ['description', 'typed']]);
    assert.equal(bad.status, 422);
    assert.match(bad.html, /Your changes were not saved<\/a>: This is not a valid URL\./);
    assert.match(bad.html, /name="url"[^>]*value="not a url"/);
    assert.match(bad.html, /name="description"[^>]*value="typed"/);
    assert.deepEqual((await endpointsOf(alice)).map((e) => [e.url, e.events]), [[`${receiver.url}/b`, ['file.canceled']]], 'unchanged');
  });

  describe('refusals', () => {
    const actions = (id: string): [string, Fields][] => [
      [`/settings/webhooks/${id}`, [['url', `${receiver.url}/stolen`]]],
      [`/settings/webhooks/${id}/test`, []],
      [`/settings/webhooks/${id}/disable`, []],
      [`/settings/webhooks/${id}/enable`, []],
      [`/settings/webhooks/${id}/rotate-secret`, []],
      [`/settings/webhooks/${id}/deliveries/${firstDelivery}/replay`, []],
      [`/settings/webhooks/${id}/delete`, []],
    ];
    /** Alice's endpoint is as it was: same address, on, nothing new sent, the secret still signs. */
    const unchanged = async () => {
      const sent = at('/b').length;
      assert.deepEqual((await endpointsOf(alice)).map((e) => [e.id, e.url, e.enabled]), [[endpointId, `${receiver.url}/b`, true]]);
      assert.equal(at('/stolen').length + at('/forged').length, 0);
      await post(alice, `/settings/webhooks/${endpointId}/test`);
      const r = await waitFor('a test', async () => at('/b')[sent], 10_000);
      assert.equal(verify(secret, r).type, 'webhook.test', 'the secret was not rotated');
    };

    it('forms without a valid CSRF token get 403 and change nothing', async () => {
      await alice.get('/settings');
      const forms: [string, Fields][] = [['/settings/webhooks', [['url', `${receiver.url}/forged`]]], ...actions(endpointId)];
      for (const [url, fields] of forms) {
        assert.equal((await post(alice, url, fields, false)).status, 403, `${url} without a token`);
        assert.equal((await post(alice, url, fields, 'forged')).status, 403, `${url} with a forged token`);
      }
      await unchanged();
    });

    it('another user gets 404 for the endpoint page and every form, and changes nothing', async () => {
      const settings = await bob.get('/settings');
      assert.equal(settings.html.includes(endpointId), false, 'not listed to bob');
      assert.equal((await bob.get(`/settings/webhooks/${endpointId}`)).status, 404);
      for (const [url, fields] of actions(endpointId)) assert.equal((await post(bob, url, fields)).status, 404, url);
      for (const id of [UNKNOWN, 'not-an-id']) assert.equal((await alice.get(`/settings/webhooks/${id}`)).status, 404, id);
      const anonymous = await new PageClient(srv.url).get(`/settings/webhooks/${endpointId}`);
      assert.deepEqual([anonymous.status, anonymous.location], [303, `/login?next=${encodeURIComponent(`/settings/webhooks/${endpointId}`)}`]);
      await unchanged();
    });
  });

  it('deletes the endpoint (the button asks first), then it is gone', async () => {
    assert.match((await pageOf()).html, /action="[^"]*\/delete" class="inline" data-confirm="Delete this endpoint/);
    const res = await post(alice, `/settings/webhooks/${endpointId}/delete`);
    assert.deepEqual([res.status, res.location], [303, '/settings#webhooks']);
    const settings = await alice.get('/settings');
    assert.match(settings.html, /was deleted\. Nothing more is sent to it\./);
    assert.match(settings.html, /No webhook endpoints yet/);
    assert.deepEqual(await endpointsOf(alice), []);
    assert.equal((await pageOf()).status, 404);
  });
});
