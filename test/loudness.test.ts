import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Upload } from 'tus-js-client';
import { readFile } from 'node:fs/promises';
import { Migrator, sql } from 'kysely';
import { migrationProvider, migrations } from '../src/db/migrations.ts';
import { openPostgres } from '../src/db/postgres.ts';
import { openSqlite } from '../src/db/sqlite.ts';
import { createStore } from '../src/db/store.ts';
import { createLogger } from '../src/log.ts';
import { createEmbeddedQueue } from '../src/queue/embedded.ts';
import { getFile } from '../src/domain/files.ts';
import { loadConfig } from '../src/config.ts';
import { freshBackendEnv } from './helpers/backends.ts';
import { ffprobe } from './helpers/audio.ts';
import { ApiClient, PageClient, type FileJson } from './helpers/clients.ts';
import { checkOutput, loudnessFixtures, loudnessPresets, meterFile } from './helpers/loudness.ts';
import { waitFor, type TestServer } from './helpers/server.ts';
import { fileEnded, saveOutput } from './helpers/files.ts';
import { startServerWithUser } from './helpers/server-with-user.ts';

interface Measurement { integratedLufs: number | null; truePeakDbtp: number | null; rangeLu: number }
type LoudFile = FileJson & {
  loudness: { mode: string; target: { integratedLufs: number; truePeakDbtp: number; rangeLu: number } | null; report: { method: string; gainDb: number; before: Measurement; after: Measurement; afterFrom: string } | null };
  field?: string;
};

describe('loudness normalization through the service', () => {
  let srv: TestServer;
  let api: ApiClient;
  let dir = '';
  let close: () => Promise<void>;

  before(async () => {
    ({ srv, api, dir, close } = await startServerWithUser('loudness'));
  });
  after(() => close());

  /** Downloads an output and measures it with the independent meter. */
  async function meterOutput(file: LoudFile, preset: string) {
    const out = await saveOutput(api, file.id, preset, path.join(dir, `${file.id}-${preset}`));
    return { path: out, ...(await meterFile(out)) };
  }

  it('podcast on a peaky input: the file shows its option, the job limits and reports before/after, every output measures on target', async () => {
    const created = await api.upload(await loudnessFixtures.loudPeaky(), { loudness: 'podcast' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const made = created.body as LoudFile;
    assert.deepEqual(made.loudness, { mode: 'podcast', target: { integratedLufs: -16, truePeakDbtp: -1, rangeLu: 11 }, report: null });
    const done = await fileEnded<LoudFile>(api, made.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    const report = done.loudness.report;
    assert.ok(report);
    assert.equal(report.method, 'limiter');
    assert.equal(report.afterFrom, 'meter');
    assert.ok((report.before.truePeakDbtp ?? -99) > 0, 'the input peaks over full scale');
    assert.ok(Math.abs((report.after.integratedLufs ?? NaN) + 16) <= 0.5);
    for (const preset of done.presets) {
      const m = await meterOutput(done, preset);
      assert.equal(checkOutput(m, loudnessPresets.podcast, `${preset} (${m.meter})`), undefined);
    }
  });

  it('custom targets on a 48 kHz tone: plain gain, the rate kept, the output on target', async () => {
    const created = await api.upload(await loudnessFixtures.steadyTone48k(), { loudness: 'custom', loudnessI: '-20', loudnessTP: '-2', loudnessLRA: '7', presets: 'alac' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const done = await fileEnded<LoudFile>(api, created.body.id);
    assert.equal(done.status, 'completed', done.error ?? '');
    assert.deepEqual(done.loudness.target, { integratedLufs: -20, truePeakDbtp: -2, rangeLu: 7 });
    assert.equal(done.loudness.report?.method, 'linear');
    assert.equal(done.loudness.report.afterFrom, 'gain');
    assert.equal(done.loudness.report.after.integratedLufs, -20);
    const m = await meterOutput(done, 'alac');
    assert.equal(checkOutput(m, { integratedLufs: -20, truePeakDbtp: -2 }, 'alac'), undefined);
    assert.equal((await ffprobe(m.path)).streams[0]?.sample_rate, '48000');
  });

  it('is off unless asked: no target, no report, levels untouched', async () => {
    const input = await loudnessFixtures.steadyTone48k();
    const created = await api.upload(input, { presets: 'flac-cd' });
    const done = await fileEnded<LoudFile>(api, created.body.id);
    assert.deepEqual(done.loudness, { mode: 'off', target: null, report: null });
    const [m, original] = await Promise.all([meterOutput(done, 'flac-cd'), meterFile(input)]);
    assert.ok(Math.abs(m.integratedLufs - original.integratedLufs) <= 0.2, `untouched tone measures ${m.integratedLufs}, was ${original.integratedLufs}`);
  });

  it('refuses bad loudness fields with a 422 naming the field, keeping nothing', async () => {
    const wav = await loudnessFixtures.steadyTone48k();
    const cases: [Record<string, string>, string][] = [
      [{ loudness: 'loud' }, 'loudness'],
      [{ loudness: 'custom', loudnessI: '-16', loudnessLRA: '7' }, 'loudnessTP'],
      [{ loudness: 'custom', loudnessI: '-3', loudnessTP: '-1', loudnessLRA: '7' }, 'loudnessI'],
      [{ loudness: 'custom', loudnessI: '-16', loudnessTP: 'NaN', loudnessLRA: '7' }, 'loudnessTP'],
      [{ loudness: 'custom', loudnessI: '-16', loudnessTP: '-1', loudnessLRA: '0' }, 'loudnessLRA'],
      [{ loudness: 'podcast', loudnessI: '-20' }, 'loudnessI'],
    ];
    const before = (await api.json<{ files: unknown[] }>('GET', '/files')).body.files.length;
    for (const [fields, field] of cases) {
      const res = await api.upload(wav, fields);
      assert.equal(res.status, 422, JSON.stringify(fields));
      assert.match(res.res.headers.get('content-type') ?? '', /application\/problem\+json/);
      const body = res.body as LoudFile;
      assert.equal(body.code, 'invalid_loudness');
      assert.equal(body.field, field, JSON.stringify(fields));
      assert.ok(body.detail?.includes(field));
    }
    assert.equal((await api.json<{ files: unknown[] }>('GET', '/files')).body.files.length, before);
  });

  it('takes the option from tus metadata, and refuses a bad one before any byte is sent', async () => {
    const data = await readFile(await loudnessFixtures.quietSpeech());
    const send = (metadata: Record<string, string>) =>
      new Promise<{ fileId?: string; status?: number; body?: string }>((resolve) => {
        new Upload(data, {
          endpoint: `${srv.url}/api/v1/uploads`,
          headers: { authorization: `Bearer ${api.token}` },
          metadata,
          chunkSize: 512 * 1024,
          retryDelays: [],
          onSuccess: ({ lastResponse }) => resolve({ fileId: lastResponse.getHeader('reprise-file-id') ?? undefined }),
          onError: (err) => {
            const res = (err as { originalResponse?: { getStatus(): number; getBody(): string } }).originalResponse;
            resolve({ status: res?.getStatus(), body: res?.getBody() });
          },
        }).start();
      });
    const refused = await send({ filename: 'speech.wav', loudness: 'custom', loudnessI: 'abc', loudnessTP: '-1', loudnessLRA: '7' });
    assert.equal(refused.status, 422);
    assert.equal((JSON.parse(refused.body ?? '{}') as { field?: string }).field, 'loudnessI');

    const ok = await send({ filename: 'speech.wav', loudness: 'streaming', presets: 'wav-44k-16,aac-256k' });
    assert.ok(ok.fileId, JSON.stringify(ok));
    const done = await fileEnded<LoudFile>(api, ok.fileId);
    assert.equal(done.loudness.mode, 'streaming');
    assert.ok(done.loudness.report);
    for (const preset of done.presets) {
      const m = await meterOutput(done, preset);
      assert.equal(checkOutput(m, loudnessPresets.streaming, `${preset} (${m.meter})`), undefined);
    }
  });

  it('the upload page offers the option, its form sends it, and the file page shows the report', async () => {
    const page = await PageClient.signUp(srv.url, 'loudness-page');
    const form = await page.get('/files');
    assert.match(form.html, /<select name="loudness">/);
    for (const field of ['loudnessI', 'loudnessTP', 'loudnessLRA']) assert.match(form.html, new RegExp(`name="${field}"`));
    const body = new FormData();
    body.append('loudness', 'broadcast');
    body.append('presets', 'flac-cd');
    body.append('file', new Blob([await readFile(await loudnessFixtures.quietSpeech())]), 'speech.wav');
    const res = await page.fetch(`/files?_csrf=${encodeURIComponent(page.csrf)}`, { method: 'POST', body });
    assert.equal(res.status, 303);
    const fileUrl = res.headers.get('location') ?? assert.fail('a redirect to the file');
    const html = await waitFor('the report on the file page', async () => {
      const { html } = await page.get(fileUrl);
      return html.includes('data-measured="after"') ? html : undefined;
    });
    assert.match(html, /data-loudness="broadcast"/);
    assert.match(html, /data-loudness-method="(linear|limiter)"/);
    assert.match(html, /Before<\/th><td>-?\d+\.\d LUFS<\/td><td>-?\d+\.\d dBTP<\/td><td>\d+\.\d LU/);
    assert.match(html, /After<\/th><td>-2[23]\.\d LUFS/);
  });
});

describe('files made before loudness existed', () => {
  it('read as "off, no report" after the migration, on this backend', async () => {
    const env = await freshBackendEnv();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-loudness-migration-'));
    const pg = env.DATABASE_URL ? openPostgres(env.DATABASE_URL, 2) : undefined;
    const db = pg?.db ?? openSqlite(path.join(dir, 'old.sqlite'));
    try {
      const names = Object.keys(migrations);
      const previous = names[names.indexOf('0008_loudness') - 1];
      assert.ok(previous);
      const migrator = new Migrator({ db, provider: migrationProvider });
      assert.equal((await migrator.migrateTo(previous)).error, undefined);
      await sql`INSERT INTO users (id, username, password_hash, created_at) VALUES ('u1', 'old', 'x', 0)`.execute(db);
      await sql`INSERT INTO files (id, user_id, name, original_filename, input_key, input_size, input_format, input_codec, duration_ms, has_cover, input_sample_rate, input_channels, presets, status, progress, error, generation, created_at, updated_at)
        VALUES ('f1', 'u1', 'Old', 'old.wav', 'files/f1/input', 10, 'wav', 'pcm_s16le', 1000, 0, 44100, 2, '["flac-cd"]', 'completed', 100, NULL, 1, 1, 1)`.execute(db);
      assert.equal((await migrator.migrateToLatest()).error, undefined);
      // Only reads happen here: no job is queued, so any queue backend's handle will do.
      const view = await getFile({ store: createStore(db, createEmbeddedQueue(db, createLogger('silent')).jobsWithin), config: loadConfig({}), now: Date.now }, 'u1', 'f1');
      assert.deepEqual(view.loudness, { mode: 'off', target: null, report: null });
    } finally {
      await db.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
