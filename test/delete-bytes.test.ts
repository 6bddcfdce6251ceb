import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fixtures } from './helpers/audio.ts';
import { backend, resumableBytesHeld } from './helpers/backends.ts';
import { ApiClient, type FileJson } from './helpers/clients.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { fileEnded, fileWhen } from './helpers/files.ts';
import { bytesHeldFor } from './helpers/stored-bytes.ts';
import { tusUpload } from './helpers/tus.ts';

/**
 * Deleting a file frees its bytes at once, wherever they are: the blob folder under DATA_DIR or
 * the bucket, scratch space, and what a resumable upload held. Measured in bytes, not rows.
 */
describe(`deleting a file frees its bytes (${backend.name})`, () => {
  let srv: TestServer;
  let api: ApiClient;

  before(async () => {
    srv = await startServer({ WORKER_CONCURRENCY: '1' });
    api = await ApiClient.signUp(srv.url, 'tidy');
  });
  after(() => srv.close());

  const held = (id: string) => bytesHeldFor(srv.env, srv.dataDir, id);
  const finished = (id: string) => fileEnded(api, id);
  const deleteAndCheck = async (f: FileJson) => {
    const before = await held(f.id);
    const outputs = f.outputs.reduce((sum, o) => sum + o.size, 0);
    assert.ok(before.bytes > outputs && outputs > 0, `${before.bytes} bytes held, outputs ${outputs}`);
    assert.ok(before.places.some((p) => p.includes(`files/${f.id}/input`)), before.places.join('\n'));
    for (const o of f.outputs) assert.ok(before.places.some((p) => p.includes(`/${o.preset}.`)), `${o.preset} in ${before.places.join(', ')}`);
    assert.ok((await srv.app.deps.store.files.findById(f.id))?.waveform, 'the peaks are stored with the row');
    assert.equal((await api.request('DELETE', `/files/${f.id}`)).status, 204);
    assert.deepEqual(await held(f.id), { places: [], bytes: 0 });
    assert.equal(await srv.app.deps.store.files.findById(f.id), undefined, 'row and peaks are gone');
  };

  it('frees the source, every output and the peaks of an uploaded file', async () => {
    const up = await api.upload(await fixtures.wav(), { presets: 'wav-44k-16,flac-cd,aac-256k' });
    assert.equal(up.status, 201);
    const f = await finished(up.body.id);
    assert.equal(f.status, 'completed', f.error ?? '');
    await deleteAndCheck(f);
  });

  it('frees a file that came through a resumable upload, leaving nothing of the upload either', async () => {
    const source = await readFile(await fixtures.wav());
    const sent = await tusUpload(srv.url, source, { headers: { authorization: `Bearer ${api.token}` }, metadata: { filename: 'tone.wav', presets: 'flac-cd,mp3-128k' } });
    assert.ok(sent.fileId, JSON.stringify(sent));
    const f = await finished(sent.fileId);
    assert.equal(f.status, 'completed', f.error ?? '');
    await deleteAndCheck(f);
    assert.equal(await resumableBytesHeld(srv.env, srv.dataDir), 0);
  });

  it('frees a file deleted while its job runs: scratch space and outputs the job was writing', async () => {
    const up = await api.upload(await fixtures.longWav(), { presets: 'aac-256k,opus-96k,flac-cd' });
    assert.equal(up.status, 201);
    await fileWhen(api, up.body.id, (f) => f.status === 'running', 'the job to run');
    // The job's scratch copy and partial outputs live under DATA_DIR/tmp while it runs.
    await waitFor('scratch in use', async () => ((await held(up.body.id)).places.some((p) => p.includes('/tmp/')) ? true : undefined));
    assert.equal((await api.request('DELETE', `/files/${up.body.id}`)).status, 204);
    // The job learns of it at its next progress report, stops ffmpeg and removes its scratch.
    const left = await waitFor('every byte freed', async () => {
      const now = await held(up.body.id);
      return now.bytes === 0 && now.places.length === 0 ? now : undefined;
    }, 30_000);
    assert.deepEqual(left, { places: [], bytes: 0 });
  });

  it('frees outputs a failing job published after its file was deleted', async () => {
    // A DELETE lands while the job publishes: one output is put after the deletion freed the
    // file's folder, another put fails (as when its folder vanished). Nothing may stay behind.
    const blobs = srv.app.deps.blobs;
    let puts = 0;
    let fileId = '';
    let firstPut: Promise<number> | undefined;
    srv.app.deps.blobs = {
      ...blobs,
      async putFile(key, filePath) {
        puts++;
        if (puts === 1) {
          firstPut = api.request('DELETE', `/files/${fileId}`).then((res) => {
            assert.equal(res.status, 204);
            return blobs.putFile(key, filePath);
          });
          return firstPut;
        }
        await firstPut;
        throw new Error('storage refused the output');
      },
    };
    try {
      const up = await api.upload(await fixtures.wav(), { presets: 'flac-cd,mp3-128k' });
      assert.equal(up.status, 201);
      fileId = up.body.id;
      await waitFor('the job to try publishing', async () => (puts >= 2 ? true : undefined));
      const left = await waitFor('every byte freed', async () => {
        const now = await held(fileId);
        return now.bytes === 0 && now.places.length === 0 ? now : undefined;
      }, 20_000);
      assert.deepEqual(left, { places: [], bytes: 0 });
    } finally {
      srv.app.deps.blobs = blobs;
    }
  });
});
