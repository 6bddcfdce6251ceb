import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { backend } from './helpers/backends.ts';
import { ApiClient } from './helpers/clients.ts';
import { fixtures } from './helpers/audio.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const run = promisify(execFile);

/** A real full disk: DATA_DIR on a 4 MiB tmpfs (needs root, as CI and the dev machines have). */
describe('a full disk', () => {
  let mountPoint = '';
  let srv: TestServer | undefined;
  let skip: string | false = false;

  before(async () => {
    mountPoint = await mkdtemp(path.join(os.tmpdir(), 'reprise-full-'));
    if (backend.s3Endpoint) {
      skip = 'blobs are in S3 in this run; a full local disk cannot affect uploads';
      return;
    }
    try {
      await run('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]);
    } catch (err) {
      skip = `cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]})`;
      return;
    }
    srv = await startServer({ DATA_DIR: mountPoint });
  });
  after(async () => {
    await srv?.close();
    if (!skip) await run('umount', [mountPoint]).catch(() => undefined);
    await rm(mountPoint, { recursive: true, force: true });
  });

  it('refuses an upload with 507 and a clear message, keeps nothing, and still works after', async (t) => {
    if (skip || !srv) return t.skip(skip || 'no server');
    const api = await ApiClient.signUp(srv.url, 'lena');
    const big = path.join(os.tmpdir(), 'reprise-6mb.wav');
    await writeFile(big, Buffer.alloc(6 * 1024 * 1024, 7));
    const res = await api.upload(big);
    await rm(big);
    assert.equal(res.status, 507);
    assert.match(res.body.detail ?? '', /out of storage space; nothing was kept/);
    const files = (await readdir(path.join(mountPoint, 'blobs'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    assert.deepEqual(files.map((f) => f.name), []);
    const ok = await api.upload(await fixtures.mp3WithCover(), { presets: 'mp3-128k' });
    assert.equal(ok.status, 201, 'space was given back');
  });
});
