import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ApiClient, PageClient, type FileJson } from './helpers/clients.ts';
import { fixtures } from './helpers/audio.ts';
import { listStoredBlobs, resumableBytesHeld } from './helpers/backends.ts';
import { fileRecord } from './helpers/records.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { fileWhen } from './helpers/files.ts';
import { tusUpload } from './helpers/tus.ts';

const run = promisify(execFile);

/** Every admin API route, with an id where it takes one. */
const apiRoutes = (id: string): [string, string][] => [
  ['GET', '/admin/users'],
  ['POST', `/admin/users/${id}/disable`],
  ['POST', `/admin/users/${id}/enable`],
  ['DELETE', `/admin/users/${id}`],
  ['GET', '/admin/jobs'],
  ['POST', `/admin/jobs/${id}/cancel`],
  ['POST', '/admin/queue/pause'],
  ['POST', '/admin/queue/resume'],
  ['GET', '/admin/workers'],
  ['GET', '/admin/failures'],
  ['PATCH', `/admin/users/${id}/limits`],
];
const pageRoutes = (id: string): [string, string][] => [
  ['GET', '/admin'],
  ['POST', `/admin/users/${id}/disable`],
  ['POST', `/admin/users/${id}/enable`],
  ['POST', `/admin/users/${id}/delete`],
  ['POST', `/admin/jobs/${id}/cancel`],
  ['POST', '/admin/queue/pause'],
  ['POST', '/admin/queue/resume'],
];

/** An event stream that records when the server ends it. */
function openStream(base: string, token: string) {
  const controller = new AbortController();
  let ended = false;
  const opened = fetch(`${base}/api/v1/events`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: controller.signal }).then((res) => {
    assert.equal(res.status, 200);
    void (async () => {
      try {
        for await (const chunk of res.body!) void chunk;
        ended = true;
      } catch {
        /* aborted */
      }
    })();
  });
  return { opened, ended: () => ended, close: () => controller.abort() };
}

async function passwordLogin(base: string, username: string) {
  return new ApiClient(base).json<{ token?: string; code?: string; detail?: string }>('POST', '/tokens', { username, password: 'correct horse battery' });
}

describe('administrators', { concurrency: false }, () => {
  let srv: TestServer;
  /** A second web process on the same database and storage (no workers). */
  let web2: TestServer;
  let admin: ApiClient;
  let adminName = '';
  let adminId = '';

  const idOf = async (username: string) => (await srv.app.deps.store.users.findByUsername(username))!.id;
  const fileOf = (api: ApiClient, id: string) => api.json<FileJson>('GET', `/files/${id}`).then((r) => r.body);

  before(async () => {
    srv = await startServer({ EVENT_HEARTBEAT_SECONDS: '1', WEBHOOK_ALLOW_PRIVATE: 'true' });
    web2 = await startServer({ ...srv.env, WORKER_CONCURRENCY: '0' });
  });
  after(async () => {
    await web2?.close();
    await srv?.close();
  });

  it('makes exactly one of four simultaneous first sign-ups (on two web processes) an administrator, and nobody after', async () => {
    const names = ['first-a', 'first-b', 'first-c', 'first-d'];
    const clients = await Promise.all(names.map((name, i) => ApiClient.signUp(i % 2 ? web2.url : srv.url, name)));
    const answers = await Promise.all(clients.map((c) => c.json('GET', '/admin/users')));
    assert.deepEqual(answers.map((r) => r.status).sort(), [200, 404, 404, 404]);
    const winner = answers.findIndex((r) => r.status === 200);
    [admin, adminName] = [clients[winner]!, names[winner]!];
    adminId = await idOf(adminName);
    const later = await ApiClient.signUp(srv.url, 'later');
    assert.equal((await later.json('GET', '/admin/users')).status, 404);
    const users = await admin.json<{ users: { username: string; isAdmin: boolean }[] }>('GET', '/admin/users');
    assert.deepEqual(users.body.users.filter((u) => u.isAdmin).map((u) => u.username), [adminName]);
  });

  it('creates an administrator with `reprise user create --admin`, and promotes one with `user admin`', async () => {
    const env = { ...process.env, ...srv.env, LOG_LEVEL: 'silent' };
    // The promisified execFile cannot write to stdin: the password comes through a shell pipe.
    const piped = await run('sh', ['-c', `printf 'correct horse battery\\n' | "${process.execPath}" bin/reprise.js user create cli-admin2 --admin --password-stdin`], { env, timeout: 60_000 });
    assert.equal(piped.stdout.trim(), 'created administrator cli-admin2');
    const token = (await passwordLogin(srv.url, 'cli-admin2')).body.token!;
    const cliAdmin = new ApiClient(srv.url);
    cliAdmin.token = token;
    assert.equal((await cliAdmin.json('GET', '/admin/users')).status, 200);

    const plain = await run('sh', ['-c', `printf 'correct horse battery\\n' | "${process.execPath}" bin/reprise.js user create cli-plain --password-stdin`], { env, timeout: 60_000 });
    assert.equal(plain.stdout.trim(), 'created user cli-plain');
    const plainApi = new ApiClient(srv.url);
    plainApi.token = (await passwordLogin(srv.url, 'cli-plain')).body.token!;
    assert.equal((await plainApi.json('GET', '/admin/users')).status, 404);
    const promoted = await run(process.execPath, ['bin/reprise.js', 'user', 'admin', 'cli-plain'], { env, timeout: 60_000 });
    assert.equal(promoted.stdout.trim(), 'cli-plain is an administrator');
    assert.equal((await plainApi.json('GET', '/admin/users')).status, 200);
  });

  it('answers 404 on every admin route and page to anonymous callers and non-admins', async () => {
    const user = await ApiClient.signUp(srv.url, 'nosy');
    const page = await PageClient.signUp(srv.url, 'nosy-page');
    const someId = await idOf('nosy-page');
    const problems: string[] = [];
    for (const [method, url] of apiRoutes(someId)) {
      for (const [who, token] of [['anonymous', ''], ['non-admin', user.token]] as const) {
        const client = new ApiClient(srv.url);
        client.token = token;
        const res = await client.request(method, url, method === 'GET' ? undefined : {});
        if (res.status !== 404) problems.push(`${who} ${method} ${url}: ${res.status}`);
        else assert.equal(((await res.json()) as { code: string }).code, 'not_found');
      }
      // A signed-in browser's cookie, too (reads are open to it elsewhere in the API).
      const res = await page.fetch(`/api/v1${url}`, { method });
      if (res.status !== 404) problems.push(`non-admin session ${method} /api/v1${url}: ${res.status}`);
    }
    for (const [method, url] of pageRoutes(someId)) {
      const anonymous = await new PageClient(srv.url).fetch(url, { method });
      if (anonymous.status !== 404) problems.push(`anonymous page ${method} ${url}: ${anonymous.status}`);
      const res = method === 'GET' ? await page.get(url) : await page.post(url, {});
      if (res.status !== 404) problems.push(`non-admin page ${method} ${url}: ${res.status}`);
    }
    assert.deepEqual(problems, []);
    assert.equal(await idOf('nosy-page'), someId, 'the account is untouched');
    assert.doesNotMatch((await page.get('/files')).html, /href="\/admin"/, 'no admin link for a non-admin');
  });

  it('stops a disabled user\'s session, token and event stream at once, on every web process', async () => {
    const page = await PageClient.signUp(srv.url, 'dave');
    const api = new ApiClient(web2.url);
    api.token = (await passwordLogin(srv.url, 'dave')).body.token!;
    const onWeb2 = new PageClient(web2.url);
    Object.assign(onWeb2, { cookies: (page as unknown as { cookies: Map<string, string> }).cookies });
    assert.equal((await onWeb2.get('/files')).status, 200, 'the session works on the second web process');
    assert.equal((await api.json('GET', '/files')).status, 200, 'the token works on the second web process');
    const stream = openStream(web2.url, api.token);
    await stream.opened;

    const daveId = await idOf('dave');
    const disabled = await admin.json<{ disabled: boolean }>('POST', `/admin/users/${daveId}/disable`);
    assert.equal(disabled.status, 200);
    assert.equal(disabled.body.disabled, true);

    // The very next request, on either process.
    for (const base of [srv.url, web2.url]) {
      const client = new ApiClient(base);
      client.token = api.token;
      assert.equal((await client.json('GET', '/files')).status, 401, `token refused on ${base}`);
    }
    const signedOut = await onWeb2.get('/files');
    assert.equal(signedOut.status, 303);
    assert.match(signedOut.location ?? '', /^\/login/);
    assert.equal((await page.get('/files')).status, 303);
    await waitFor('the event stream to end', async () => (stream.ended() ? true : undefined), 10_000);

    const refused = await passwordLogin(web2.url, 'dave');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'account_disabled');
    await page.get('/login');
    const form = await page.post('/login', { username: 'dave', password: 'correct horse battery' });
    assert.equal(form.status, 403);
    assert.match(form.text, /disabled by an administrator/);

    assert.equal((await admin.json('POST', `/admin/users/${daveId}/enable`)).status, 200);
    assert.equal((await api.json('GET', '/files')).status, 200, 'the token works again once enabled');
    assert.equal((await passwordLogin(srv.url, 'dave')).status, 201);
    stream.close();
  });

  it('sets and clears an account\'s limits: the user is held to them at once, others are not', async () => {
    const small = await ApiClient.signUp(srv.url, 'small-quota');
    const other = await ApiClient.signUp(srv.url, 'big-quota');
    const id = await idOf('small-quota');
    const set = await admin.json<{ storage: { quotaBytes: number }; limits: { maxUploadBytes: number } }>('PATCH', `/admin/users/${id}/limits`, { quotaBytes: 1000 });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.storage.quotaBytes, 1000);
    const listed = await admin.json<{ users: { username: string; quotaBytes: number | null }[] }>('GET', '/admin/users');
    assert.equal(listed.body.users.find((u) => u.username === 'small-quota')?.quotaBytes, 1000);
    const wav = await fixtures.wav();
    const refused = await small.upload(wav, { presets: 'mp3-128k' });
    assert.equal(refused.status, 507, JSON.stringify(refused.body));
    assert.equal((await other.upload(wav, { presets: 'mp3-128k' })).status, 201, 'another account keeps the default');
    assert.equal((await admin.json('PATCH', `/admin/users/${id}/limits`, { quotaBytes: 0 })).status, 422);
    assert.equal((await admin.json('PATCH', `/admin/users/${id}/limits`, { quotaBytes: 'lots' })).status, 422);
    assert.equal((await admin.json('PATCH', '/admin/users/00000000-0000-4000-8000-000000000000/limits', { quotaBytes: 5 })).status, 404);
    assert.equal((await small.json('PATCH', `/admin/users/${id}/limits`, { quotaBytes: null })).status, 404, 'not for the user themself');
    assert.equal((await admin.json('PATCH', `/admin/users/${id}/limits`, { quotaBytes: null })).status, 200);
    assert.equal((await small.upload(wav, { presets: 'mp3-128k' })).status, 201, 'back to the default');
  });

  it('refuses to disable or delete oneself', async () => {
    for (const [method, url] of [['POST', `/admin/users/${adminId}/disable`], ['DELETE', `/admin/users/${adminId}`]] as const) {
      const res = await admin.json<{ code: string }>(method, url);
      assert.equal(res.status, 409);
      assert.equal(res.body.code, 'cannot_act_on_self');
    }
    assert.equal((await admin.json('GET', '/admin/users')).status, 200);
  });

  it('deletes a user with every row and every byte they had', async () => {
    const erin = await ApiClient.signUp(srv.url, 'erin');
    const up = await erin.upload(await fixtures.wav(), { presets: 'flac-cd' });
    assert.equal(up.status, 201);
    await fileWhen(erin, up.body.id, (f) => f.status === 'completed', 'the transcode');
    assert.equal((await erin.json('POST', '/webhooks', { url: 'http://127.0.0.1:9/hook' })).status, 201);
    assert.equal((await erin.json('POST', '/presets', { label: 'Mine', codec: 'flac' })).status, 201);
    const partial = await tusUpload(srv.url, await readFile(await fixtures.longWav()), { headers: { authorization: `Bearer ${erin.token}` }, metadata: { filename: 'long.wav' }, abortAt: 0.2 });
    assert.ok(partial.url, 'an unfinished resumable upload');
    const erinId = await idOf('erin');
    const blobsBefore = await listStoredBlobs(srv.env, srv.dataDir);
    assert.ok(blobsBefore.some((k) => k.includes(up.body.id)), 'the file has bytes stored');
    assert.ok((await resumableBytesHeld(srv.env, srv.dataDir)) > 0, 'the upload holds bytes');

    const users = await admin.json<{ users: { id: string; files: number; usage: { totalBytes: number; sourceBytes: number; outputBytes: number } }[] }>('GET', '/admin/users');
    const row = users.body.users.find((u) => u.id === erinId);
    assert.equal(row?.files, 1);
    assert.ok(row.usage.sourceBytes > 0 && row.usage.outputBytes > 0, 'usage counts sources and outputs');
    assert.equal(row.usage.totalBytes, row.usage.sourceBytes + row.usage.outputBytes);

    const deleted = await admin.request('DELETE', `/admin/users/${erinId}`);
    assert.equal(deleted.status, 204);

    const db = srv.app.db;
    for (const table of ['files', 'notifications', 'api_tokens', 'sessions', 'webhook_endpoints', 'webhook_deliveries', 'user_presets', 'resumable_uploads', 'events'] as const) {
      const left = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', erinId).executeTakeFirstOrThrow();
      assert.equal(Number(left.n), 0, `${table} rows left`);
    }
    assert.equal(await srv.app.deps.store.users.findById(erinId), undefined);
    const blobsAfter = await listStoredBlobs(srv.env, srv.dataDir);
    assert.deepEqual(blobsAfter.filter((k) => k.includes(up.body.id)), [], 'no bytes of the file');
    assert.equal(await resumableBytesHeld(srv.env, srv.dataDir), 0, 'no bytes of the unfinished upload');
    assert.equal((await erin.json('GET', '/files')).status, 401);
    assert.equal((await admin.json('DELETE', `/admin/users/${erinId}`)).status, 404);
  });

  it('pauses claiming on the whole instance, lists and cancels anyone\'s job, and resumes', async () => {
    const fay = await ApiClient.signUp(srv.url, 'fay');
    const paused = await admin.json<{ paused: boolean; by: string }>('POST', '/admin/queue/pause');
    assert.deepEqual([paused.status, paused.body.paused, paused.body.by], [200, true, adminName]);

    const uploadedAt = Date.now();
    const kept = await fay.upload(await fixtures.wav(), { name: 'Kept', presets: 'flac-cd' });
    const dropped = await fay.upload(await fixtures.wav(), { name: 'Dropped', presets: 'flac-cd' });
    assert.equal(kept.status, 201);
    // Workers poll every 1–2 s and heartbeat every 5 s: once every worker has beaten twice since
    // the uploads, each has looked for work at least once while paused.
    await waitFor('two worker heartbeats after the uploads', async () => {
      const beats = await srv.app.db.selectFrom('worker_heartbeats').select('last_seen').execute();
      return beats.length > 0 && beats.every((b) => Number(b.last_seen) > uploadedAt + 5_000) ? true : undefined;
    }, 30_000);
    assert.equal((await fileOf(fay, kept.body.id)).status, 'queued', 'nothing is claimed while paused');

    const jobs = await admin.json<{ queue: { paused: boolean }; jobs: { id: string; status: string; user: { username: string }; worker: string | null }[]; perUser: { username: string; queued: number }[] }>('GET', '/admin/jobs');
    assert.equal(jobs.body.queue.paused, true);
    assert.deepEqual(jobs.body.jobs.filter((j) => j.user.username === 'fay').map((j) => [j.id, j.status, j.worker]), [[kept.body.id, 'queued', null], [dropped.body.id, 'queued', null]]);
    assert.equal(jobs.body.perUser.find((u) => u.username === 'fay')?.queued, 2);

    const canceled = await admin.json<FileJson>('POST', `/admin/jobs/${dropped.body.id}/cancel`);
    assert.equal(canceled.status, 200);
    assert.equal((await fileOf(fay, dropped.body.id)).status, 'canceled');
    assert.equal((await admin.json<{ code: string }>('POST', `/admin/jobs/${dropped.body.id}/cancel`)).body.code, 'not_cancelable');

    const resumed = await admin.json<{ paused: boolean }>('POST', '/admin/queue/resume');
    assert.equal(resumed.body.paused, false);
    await fileWhen(fay, kept.body.id, (f) => f.status === 'completed', 'the kept job to run after resume');
    assert.equal((await fileOf(fay, dropped.body.id)).status, 'canceled');
  });

  it('lists workers with a live heartbeat and version, and recent failures with their reasons', async () => {
    const workers = await admin.json<{ workers: { id: string; alive: boolean; version: string; ageSeconds: number; jobs: unknown[] }[] }>('GET', '/admin/workers');
    assert.equal(workers.status, 200);
    assert.ok(workers.body.workers.length >= 1, 'at least one worker');
    assert.ok(workers.body.workers.some((w) => w.alive && w.version === '0.1.0' && Array.isArray(w.jobs)), JSON.stringify(workers.body));

    const owner = await idOf('fay');
    await srv.app.deps.store.files.insert(fileRecord('0b5f0e4e-1111-4e4e-8e8e-000000000001', owner, { status: 'failed', error: 'ffmpeg stopped reporting progress', updated_at: Date.now() }));
    const failures = await admin.json<{ failures: { id: string; error: string; user: { username: string } }[] }>('GET', '/admin/failures');
    const failure = failures.body.failures.find((f) => f.id === '0b5f0e4e-1111-4e4e-8e8e-000000000001');
    assert.equal(failure?.error, 'ffmpeg stopped reporting progress');
    assert.equal(failure.user.username, 'fay');
  });

  it('serves the admin page with its forms, CSRF-checked, and the nav link to admins only', async () => {
    const page = new PageClient(srv.url);
    await page.get('/login');
    assert.equal((await page.post('/login', { username: adminName, password: 'correct horse battery' })).status, 303);
    const files = await page.get('/files');
    assert.match(files.html, /<a href="\/admin"/);
    const area = await page.get('/admin');
    assert.equal(area.status, 200);
    for (const text of ['Users', 'Queue', 'Workers', 'Recent failures', 'fay', 'ffmpeg stopped reporting progress', 'Pause claiming']) assert.ok(area.html.includes(text), text);

    assert.equal((await page.post('/admin/queue/pause', {}, { csrf: false })).status, 403, 'no CSRF token, no action');
    assert.equal((await srv.app.deps.store.instance.get('queue_paused')), undefined);
    const paused = await page.post('/admin/queue/pause', {});
    assert.deepEqual([paused.status, paused.location], [303, '/admin']);
    const after = await page.get('/admin');
    assert.match(after.html, /Resume claiming/);
    assert.match(after.html, /Claiming is paused/);
    assert.equal((await page.post('/admin/queue/resume', {})).status, 303);
    assert.match((await page.get('/admin')).html, /Pause claiming/);

    const gusId = (await ApiClient.signUp(srv.url, 'gus'), await idOf('gus'));
    assert.equal((await page.post(`/admin/users/${gusId}/disable`, {})).status, 303);
    assert.match((await page.get('/admin')).html, /gus is disabled/);
    assert.notEqual((await srv.app.deps.store.users.findById(gusId))?.disabled_at, null);
    assert.equal((await page.post(`/admin/users/${adminId}/disable`, {})).status, 303);
    assert.match((await page.get('/admin')).html, /cannot disable your own account/);
    assert.equal((await page.post(`/admin/users/${gusId}/delete`, {})).status, 303);
    assert.equal(await srv.app.deps.store.users.findById(gusId), undefined);
  });
});
