import assert from 'node:assert/strict';
import { readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { uploadCopyDir } from '../src/domain/uploads.ts';
import { fixtures } from './helpers/audio.ts';
import { ApiClient, type FileJson } from './helpers/clients.ts';
import { fileEnded } from './helpers/files.ts';
import { startServer, type TestServer } from './helpers/server.ts';

type Probed = FileJson & { input?: { format: string; durationMs: number; sampleRate: number } };

const copiesLeft = (srv: TestServer) => readdir(uploadCopyDir(srv.dataDir)).catch(() => []);

/**
 * With remote storage the web process keeps a copy of each upload on its way to the bucket and
 * probes it, so the job neither fetches the input to probe it nor runs ffprobe again (issue 12's
 * fixed cost), and a bad file is refused at once as with local storage. The copy is a
 * convenience: where it cannot be written, the job probes as before.
 */
describe('remote storage: uploads are probed on their way to the bucket', () => {
  let srv: TestServer;
  let api: ApiClient;

  before(async () => {
    srv = await startServer();
    api = await ApiClient.signUp(srv.url, 'copier');
  });
  after(() => srv.close());

  it('knows the input when the upload is answered, and keeps no copy after', async (t) => {
    if (srv.app.deps.blobs.local) return t.skip('local storage probes the stored file itself');
    const res = await api.upload(await fixtures.wav(), { presets: 'flac-cd' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const input = (res.body as Probed).input;
    assert.equal(input?.format, 'wav');
    assert.ok((input?.durationMs ?? 0) > 0, JSON.stringify(input));
    assert.deepEqual(await copiesLeft(srv), []);
    assert.equal((await fileEnded(api, res.body.id)).status, 'completed');
  });

  it('refuses a file that is not audio at once, keeping nothing', async (t) => {
    if (srv.app.deps.blobs.local) return t.skip('local storage probes the stored file itself');
    const res = await api.upload(await fixtures.text(), {}, 'notes.wav');
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.deepEqual(await copiesLeft(srv), []);
  });

  it('falls back to probing in the job when the copy cannot be written', async (t) => {
    if (srv.app.deps.blobs.local) return t.skip('local storage probes the stored file itself');
    // A file where the copies' folder should be: every copy fails, as on a full disk.
    const dir = uploadCopyDir(srv.dataDir);
    await rm(dir, { recursive: true, force: true });
    await mkdir(path.dirname(dir), { recursive: true });
    await writeFile(dir, 'in the way');
    t.after(() => rm(dir, { force: true }));

    const good = await api.upload(await fixtures.wav(), { presets: 'flac-cd' });
    assert.equal(good.status, 201, JSON.stringify(good.body));
    assert.equal((good.body as Probed).input?.format, '', 'not probed at upload');
    const done = await fileEnded<Probed>(api, good.body.id);
    assert.equal(done.status, 'completed');
    assert.equal(done.input?.format, 'wav', 'probed by the job');

    const bad = await api.upload(await fixtures.text(), {}, 'notes.wav');
    assert.equal(bad.status, 201, JSON.stringify(bad.body));
    const failed = await fileEnded(api, bad.body.id);
    assert.equal(failed.status, 'failed');
    assert.match(failed.error ?? '', /not audio/i);
  });
});
