import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { setOverrides } from '../src/domain/quotas.ts';
import { fixtures } from './helpers/audio.ts';
import { listStoredBlobs, resumableBytesHeld } from './helpers/backends.ts';
import { ApiClient, PageClient, type FileJson } from './helpers/clients.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { fileSettled } from './helpers/files.ts';


const run = promisify(execFile);

interface UsageJson {
  storage: { usedBytes: number; reservedBytes: number; quotaBytes: number | null };
  filesToday: { count: number; quota: number | null; resetAt: string };
  queuedJobs: { count: number; quota: number | null };
  limits: { maxUploadBytes: number; maxInputSeconds: number; maxOutputBytes: number; quotaBytes: number | null };
}
interface QuotaProblem { code: string; limit: string; usage: number; quota: number; resetAt: string | null; requested?: number }

const DEFAULT_QUOTA = 50 * 1024 * 1024;

describe('quotas', () => {
  let srv: TestServer;
  let source: Buffer;

  before(async () => {
    srv = await startServer({ QUOTA_BYTES: String(DEFAULT_QUOTA) });
    source = await readFile(await fixtures.wav());
  });
  after(() => srv.close());

  const userIdOf = async (name: string) => (await srv.app.deps.store.users.findByUsername(name))?.id ?? '';
  const usage = async (api: ApiClient) => (await api.json<UsageJson>('GET', '/usage')).body;
  const uploadBytes = (api: ApiClient, bytes: Buffer, presets: string) => {
    const form = new FormData();
    form.append('presets', presets);
    form.append('file', new Blob([new Uint8Array(bytes)]), 'tone.wav');
    return api.json<FileJson & QuotaProblem>('POST', '/files', form);
  };
  const tusCreate = (api: ApiClient, length: number) =>
    api.request('POST', '/uploads', undefined, {
      'tus-resumable': '1.0.0',
      'upload-length': String(length),
      'upload-metadata': `filename ${Buffer.from('tone.wav').toString('base64')}`,
    });
  // Outputs of earlier tests' files may still appear while we look; sources and partials may not.
  const storedInputs = async () => (await listStoredBlobs(srv.env, srv.dataDir)).filter((key) => !/\/g\d+\//.test(key));
  const nothingNewStored = async (before: string[]) => {
    assert.deepEqual(await storedInputs(), before, 'no bytes of a refused upload were stored');
    assert.equal(await resumableBytesHeld(srv.env, srv.dataDir), 0, 'no unfinished upload holds bytes');
  };

  it('counts sources and outputs exactly, and gives a deleted file\'s bytes back at once', async () => {
    const api = await ApiClient.signUp(srv.url, 'counter');
    const empty = await usage(api);
    assert.deepEqual(empty.storage, { usedBytes: 0, reservedBytes: 0, quotaBytes: DEFAULT_QUOTA });
    const created = await uploadBytes(api, source, 'flac-cd,mp3-128k');
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const file = await fileSettled(api, created.body.id);
    assert.equal(file.status, 'completed');
    const outputs = file.outputs.reduce((sum, o) => sum + o.size, 0);
    assert.ok(outputs > 0);
    const after = await usage(api);
    assert.equal(after.storage.usedBytes, source.length + outputs, 'source + every output, byte for byte');
    assert.equal(after.storage.reservedBytes, 0);
    assert.equal(after.filesToday.count, 1);
    assert.equal((await api.request('DELETE', `/files/${file.id}`)).status, 204);
    assert.equal((await usage(api)).storage.usedBytes, 0, 'deleting gives the bytes back at once');
  });

  it('refuses an upload that does not fit the storage quota with 507 before storing a byte; outputs may finish over it', async () => {
    const api = await ApiClient.signUp(srv.url, 'filler');
    // Room for one source, not for its outputs too: the job still finishes (decision 0021).
    await setOverrides(srv.app.deps, await userIdOf('filler'), { quotaBytes: source.length + 4096 });
    const first = await uploadBytes(api, source, 'wav-44k-16');
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal((await fileSettled(api, first.body.id)).status, 'completed');
    const used = (await usage(api)).storage.usedBytes;
    assert.ok(used > source.length + 4096, 'over quota after its outputs');

    const stored = await storedInputs();
    const refused = await uploadBytes(api, source, 'flac-cd');
    assert.equal(refused.status, 507);
    assert.equal(refused.res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(refused.body.code, 'storage_quota_exceeded');
    assert.equal(refused.body.limit, 'storage');
    assert.equal(refused.body.usage, used);
    assert.equal(refused.body.quota, source.length + 4096);
    assert.equal(refused.body.resetAt, null);
    const tus = await tusCreate(api, source.length);
    assert.equal(tus.status, 507);
    assert.equal(((await tus.json()) as QuotaProblem).limit, 'storage');
    await nothingNewStored(stored);
    assert.equal((await usage(api)).filesToday.count, 1, 'refused uploads do not count as uploads');

    assert.equal((await api.request('DELETE', `/files/${first.body.id}`)).status, 204);
    assert.equal((await uploadBytes(api, source, 'flac-cd')).status, 201, 'room again once the file is gone');
  });

  it('cuts a body of undeclared length where the storage runs out, keeping nothing', async () => {
    const api = await ApiClient.signUp(srv.url, 'liar');
    await setOverrides(srv.app.deps, await userIdOf('liar'), { quotaBytes: 200_000 });
    const stored = await storedInputs();
    const boundary = 'quota-test-boundary';
    const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="tone.wav"\r\ncontent-type: audio/wav\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    // A stream body has no Content-Length: fetch sends it chunked, so only the cap can stop it.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(head);
        for (let i = 0; i < source.length; i += 64 * 1024) controller.enqueue(source.subarray(i, i + 64 * 1024));
        controller.enqueue(tail);
        controller.close();
      },
    });
    const res = await fetch(`${srv.url}/api/v1/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 507);
    const problem = (await res.json()) as QuotaProblem;
    assert.equal(problem.limit, 'storage');
    assert.equal(problem.quota, 200_000);
    await nothingNewStored(stored);
    assert.deepEqual((await usage(api)).storage, { usedBytes: 0, reservedBytes: 0, quotaBytes: 200_000 });
  });

  it('refuses an upload over the user\'s size limit with 413; the CLI raises and clears the limit; others are unaffected', async () => {
    const api = await ApiClient.signUp(srv.url, 'small');
    const other = await ApiClient.signUp(srv.url, 'bystander');
    await setOverrides(srv.app.deps, await userIdOf('small'), { maxUploadBytes: 100_000 });
    const stored = await storedInputs();
    const long = await readFile(await fixtures.longWav());
    const refused = await uploadBytes(api, long, 'flac-cd');
    assert.equal(refused.status, 413);
    assert.equal(refused.body.code, 'too_large');
    assert.equal(refused.body.limit, 'upload_size');
    assert.equal(refused.body.quota, 100_000);
    assert.ok(refused.body.usage > long.length, 'the declared body length, refused before reading it');
    // Within the multipart allowance the declared length passes, and the part is cut at the limit.
    const cut = await uploadBytes(api, source, 'flac-cd');
    assert.deepEqual([cut.status, cut.body.limit, cut.body.quota], [413, 'upload_size', 100_000]);
    const tus = await tusCreate(api, source.length);
    assert.equal(tus.status, 413);
    assert.equal(((await tus.json()) as QuotaProblem).quota, 100_000);
    await nothingNewStored(stored);
    assert.equal((await usage(other)).limits.maxUploadBytes, srv.app.deps.config.maxUploadBytes);
    assert.equal((await uploadBytes(other, source, 'flac-cd')).status, 201, 'another user is unaffected');

    const cli = async (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'user', 'quota', 'small', ...args], { env: { ...process.env, ...srv.env } });
    const raised = await cli('--max-upload-bytes', '2M', '--files-per-day', '7');
    assert.match(raised.stdout, /largest upload\s+2\.0 MB \(set for this user\)/);
    assert.equal((await usage(api)).limits.maxUploadBytes, 2 * 1024 * 1024);
    assert.equal((await uploadBytes(api, source, 'flac-cd')).status, 201, 'the raised limit lets it through');
    const cleared = await cli('--clear');
    assert.doesNotMatch(cleared.stdout, /set for this user/);
    const back = await usage(api);
    assert.equal(back.limits.maxUploadBytes, srv.app.deps.config.maxUploadBytes);
    assert.equal(back.filesToday.quota, null);
    await assert.rejects(cli('--bytes', 'lots'), /--bytes takes a whole number/);
  });

  it('refuses the day\'s upload past the limit with 429, Retry-After and the reset time', async () => {
    const api = await ApiClient.signUp(srv.url, 'daily');
    await setOverrides(srv.app.deps, await userIdOf('daily'), { filesPerDay: 1 });
    assert.equal((await uploadBytes(api, source, 'flac-cd')).status, 201);
    const stored = await storedInputs();
    const refused = await uploadBytes(api, source, 'flac-cd');
    assert.equal(refused.status, 429);
    assert.equal(refused.body.code, 'daily_upload_limit');
    assert.equal(refused.body.limit, 'files_per_day');
    assert.equal(refused.body.usage, 1);
    assert.equal(refused.body.quota, 1);
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    assert.equal(refused.body.resetAt, midnight.toISOString());
    const retryAfter = Number(refused.res.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 86_400, `Retry-After ${retryAfter}`);
    assert.equal((await tusCreate(api, source.length)).status, 429);
    await nothingNewStored(stored);
  });

  it('counts uploads under way as waiting files: past the limit, 429', async () => {
    const api = await ApiClient.signUp(srv.url, 'waiter');
    await setOverrides(srv.app.deps, await userIdOf('waiter'), { queuedJobs: 1 });
    // A created resumable upload holds a place (and its bytes) until it finishes or is deleted.
    const open = await tusCreate(api, source.length);
    assert.equal(open.status, 201);
    const u = await usage(api);
    assert.equal(u.queuedJobs.count, 1);
    assert.equal(u.storage.reservedBytes, source.length);
    const refused = await uploadBytes(api, source, 'flac-cd');
    assert.equal(refused.status, 429);
    assert.equal(refused.body.code, 'too_many_queued');
    assert.equal(refused.body.limit, 'queued_jobs');
    assert.deepEqual([refused.body.usage, refused.body.quota], [1, 1]);
    assert.ok(Number(refused.res.headers.get('retry-after')) > 0);
    const location = open.headers.get('location') ?? '';
    const gone = await fetch(new URL(location, `${srv.url}/api/v1/uploads/`), { method: 'DELETE', headers: { authorization: `Bearer ${api.token}`, 'tus-resumable': '1.0.0' } });
    assert.equal(gone.status, 204);
    assert.equal((await usage(api)).queuedJobs.count, 0, 'a deleted upload gives its place back');
    assert.equal((await usage(api)).storage.reservedBytes, 0);
  });

  it('applies the user\'s own input length cap', async () => {
    const api = await ApiClient.signUp(srv.url, 'brief');
    await setOverrides(srv.app.deps, await userIdOf('brief'), { maxInputSeconds: 2 });
    const res = await uploadBytes(api, source, 'flac-cd');
    // Probed at upload, with remote storage too (the web process's copy).
    assert.deepEqual([res.status, res.body.code], [422, 'input_too_long']);
  });

  it('lets concurrent uploads of one user together take no more than the quota', async () => {
    const api = await ApiClient.signUp(srv.url, 'racer');
    const quota = Math.floor(source.length * 2.5);
    await setOverrides(srv.app.deps, await userIdOf('racer'), { quotaBytes: quota });
    const created = await Promise.all(Array.from({ length: 6 }, () => tusCreate(api, source.length)));
    const statuses = created.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 201, 507, 507, 507, 507], 'each reservation sees the others');
    assert.equal((await usage(api)).storage.reservedBytes, source.length * 2);
    for (const r of created.filter((c) => c.status === 201)) {
      await fetch(new URL(r.headers.get('location') ?? '', `${srv.url}/api/v1/uploads/`), { method: 'DELETE', headers: { authorization: `Bearer ${api.token}`, 'tus-resumable': '1.0.0' } });
    }
    const multipart = await Promise.all(Array.from({ length: 4 }, () => uploadBytes(api, source, 'mp3-128k')));
    const accepted = multipart.filter((r) => r.status === 201);
    assert.ok(accepted.length >= 1 && accepted.length <= 2, `accepted ${accepted.length}`);
    assert.ok(multipart.every((r) => r.status === 201 || r.status === 507), JSON.stringify(multipart.map((r) => r.status)));
    const sources = accepted.length * source.length;
    assert.ok(sources <= quota, 'the sources taken together fit the quota');
  });

  it('shows usage as bars on the upload and settings pages, warning at the limit', async () => {
    const page = await PageClient.signUp(srv.url, 'viewer');
    const userId = await userIdOf('viewer');
    const before = await page.get('/files');
    assert.match(before.html, /Storage<\/span>\s*<meter [^>]*value="0"/);
    assert.doesNotMatch(before.html, /usage-warn/);
    const form = new FormData();
    form.append('presets', 'flac-cd');
    form.append('file', new Blob([new Uint8Array(source)]), 'tone.wav');
    const sent = await page.fetch(`/files?_csrf=${encodeURIComponent(page.csrf)}`, { method: 'POST', body: form });
    assert.equal(sent.status, 303);
    await setOverrides(srv.app.deps, userId, { filesPerDay: 1 });
    const files = await page.get('/files');
    assert.match(files.html, /usage-item usage-warn usage-full" data-usage-bar="filesToday"/);
    assert.match(files.html, /uploads are used up: more are refused until 00:00 UTC/);
    const settings = await page.get('/settings');
    assert.match(settings.html, /<h1>Usage<\/h1>/);
    assert.match(settings.html, /1 of 1/);
  });
});
