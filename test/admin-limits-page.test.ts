import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PageClient } from './helpers/clients.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const GB = 1024 ** 3;
const allNull = { quotaBytes: null, queuedJobs: null, filesPerDay: null, maxUploadBytes: null, maxInputSeconds: null, maxOutputBytes: null };

/** The admin user page's limits form over real HTTP: set, clear, refuse, hide, and CSRF. */
describe('admin user page: the limits form', { concurrency: false }, () => {
  let srv: TestServer;
  let admin: PageClient;
  let lena: PageClient;
  let userId = '';

  const overridesOf = () => srv.app.deps.store.quotas.overridesOf(userId);
  const form = (fields: Record<string, string>) => ({ quotaBytes: '', queuedJobs: '', filesPerDay: '', maxUploadBytes: '', maxInputSeconds: '', maxOutputBytes: '', ...fields });

  before(async () => {
    srv = await startServer({ QUOTA_BYTES: String(10 * GB), WORKER_CONCURRENCY: '0' });
    admin = await PageClient.signUp(srv.url, 'root'); // the first account is the administrator
    lena = await PageClient.signUp(srv.url, 'lena');
    userId = (await srv.app.deps.store.users.findByUsername('lena'))!.id;
  });
  after(async () => {
    await srv?.close();
  });

  it('links each account from the admin page to its own page, with its usage and a field per limit', async () => {
    const area = await admin.get('/admin');
    assert.match(area.html, new RegExp(`<a href="/admin/users/${userId}">lena</a>`));
    const page = await admin.get(`/admin/users/${userId}`);
    assert.equal(page.status, 200);
    for (const key of Object.keys(allNull)) assert.match(page.html, new RegExp(`name="${key}" value=""`), key);
    assert.match(page.html, /placeholder="Default: 10 GB"/, 'the default is shown where the value goes');
    assert.match(page.html, /In force: <strong>10 GB<\/strong> \(the default, QUOTA_BYTES\)/);
    assert.match(page.html, /data-usage-bar="storage"/, 'the account\'s usage bars');
    assert.doesNotMatch(page.html, /usage-live\.js/, 'the admin\'s own usage must not be drawn over the account\'s');
  });

  it('sets limits in human units, shows them back as typed, and holds the account to them', async () => {
    const saved = await admin.post(`/admin/users/${userId}/limits`, form({ quotaBytes: '5 GiB', queuedJobs: '3', maxInputSeconds: '1:30:00', maxOutputBytes: '750' }));
    assert.deepEqual([saved.status, saved.location], [303, `/admin/users/${userId}`]);
    assert.deepEqual(await overridesOf(), { ...allNull, quotaBytes: 5 * GB, queuedJobs: 3, maxInputSeconds: 5400, maxOutputBytes: 750 * 1024 ** 2 });
    const page = await admin.get(`/admin/users/${userId}`);
    assert.match(page.html, /Limits of lena saved\./);
    assert.match(page.html, /name="quotaBytes" value="5 GB"/);
    assert.match(page.html, /name="maxInputSeconds" value="1:30:00"/);
    assert.match(page.html, /name="maxOutputBytes" value="750 MB"/);
    assert.match(page.html, /In force: <strong>5.0 GB<\/strong> \(set for this user\)/);
    // Saving the form unchanged changes nothing.
    await admin.post(`/admin/users/${userId}/limits`, form({ quotaBytes: '5 GB', queuedJobs: '3', maxInputSeconds: '1:30:00', maxOutputBytes: '750 MB' }));
    assert.deepEqual(await overridesOf(), { ...allNull, quotaBytes: 5 * GB, queuedJobs: 3, maxInputSeconds: 5400, maxOutputBytes: 750 * 1024 ** 2 });
    // The user's own page and API see the new limits at once.
    assert.match((await lena.get('/settings')).html, /<span data-usage-text>0 B of 5.0 GB<\/span>/);
    const api = await lena.fetch('/api/v1/usage', { method: 'GET' });
    const body = (await api.json()) as { storage: { quotaBytes: number }; limits: { maxInputSeconds: number } };
    assert.deepEqual([body.storage.quotaBytes, body.limits.maxInputSeconds], [5 * GB, 5400]);
  });

  it('clears one limit by emptying its field, and all of them with one button', async () => {
    await admin.get(`/admin/users/${userId}`);
    await admin.post(`/admin/users/${userId}/limits`, form({ quotaBytes: '5 GB', queuedJobs: '3', maxInputSeconds: '1:30:00' }));
    assert.deepEqual(await overridesOf(), { ...allNull, quotaBytes: 5 * GB, queuedJobs: 3, maxInputSeconds: 5400 }, 'the emptied output limit is back to the default');
    const cleared = await admin.post(`/admin/users/${userId}/limits/clear`, {});
    assert.deepEqual([cleared.status, cleared.location], [303, `/admin/users/${userId}`]);
    assert.deepEqual(await overridesOf(), allNull);
    assert.match((await admin.get(`/admin/users/${userId}`)).html, /Every limit of lena is back to the server(&#39;|')s default\./);
  });

  it('refuses a bad value with a 422 page that says which field and why, keeps what was typed, and saves nothing', async () => {
    await admin.post(`/admin/users/${userId}/limits`, form({ queuedJobs: '4' }));
    const refused = await admin.post(`/admin/users/${userId}/limits`, form({ quotaBytes: 'lots', queuedJobs: '0', filesPerDay: '20' }));
    assert.equal(refused.status, 422);
    assert.match(refused.text, /Nothing was saved: 2 fields need another value\./);
    assert.match(refused.text, /Storage: “lots” is not a size such as 5 GB, 500 MB or 1.5 TB/);
    assert.match(refused.text, /Files waiting or transcoding at once must be at least 1/);
    assert.match(refused.text, /name="quotaBytes" value="lots"[^>]*aria-invalid="true"/);
    assert.match(refused.text, /name="filesPerDay" value="20"/, 'the good fields keep what was typed');
    assert.deepEqual(await overridesOf(), { ...allNull, queuedJobs: 4 }, 'nothing changed');
  });

  it('checks the CSRF token', async () => {
    const res = await admin.post(`/admin/users/${userId}/limits`, form({ quotaBytes: '1 GB' }), { csrf: false });
    assert.equal(res.status, 403);
    assert.equal((await admin.post(`/admin/users/${userId}/limits/clear`, {}, { csrf: false })).status, 403);
    assert.deepEqual(await overridesOf(), { ...allNull, queuedJobs: 4 });
  });

  it('answers 404 to non-admins and strangers, and for an unknown account', async () => {
    const anonymous = new PageClient(srv.url);
    for (const [method, url] of [['GET', `/admin/users/${userId}`], ['POST', `/admin/users/${userId}/limits`], ['POST', `/admin/users/${userId}/limits/clear`]] as const) {
      const asUser = method === 'GET' ? (await lena.get(url)).status : (await lena.post(url, form({ quotaBytes: '99 TB' }))).status;
      assert.equal(asUser, 404, `non-admin ${method} ${url}`);
      assert.equal((await anonymous.fetch(url, { method })).status, 404, `anonymous ${method} ${url}`);
    }
    assert.deepEqual(await overridesOf(), { ...allNull, queuedJobs: 4 }, 'the user did not raise their own limit');
    const unknown = '00000000-0000-4000-8000-000000000000';
    assert.equal((await admin.get(`/admin/users/${unknown}`)).status, 404);
    assert.equal((await admin.post(`/admin/users/${unknown}/limits`, form({ quotaBytes: '1 GB' }))).status, 404);
    assert.equal((await admin.post(`/admin/users/${unknown}/limits`, form({ quotaBytes: 'x' }))).status, 404, 'a bad value for nobody is still nobody');
    assert.equal((await admin.get('/admin/users/not-an-id')).status, 404);
  });
});
