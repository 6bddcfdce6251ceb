import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Media } from '../src/media/types.ts';
import { backend, listStoredBlobs } from './helpers/backends.ts';
import { ApiClient, type FileJson } from './helpers/clients.ts';
import { fileEnded } from './helpers/files.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const run = promisify(execFile);
const PRESETS = ['aac-256k', 'mp3-320k', 'opus-96k'];

/**
 * Joins overlap the other presets' segments (issue 12's tail): a preset's join is queued as soon
 * as its last segment is done, ahead of queued encodes. With one slot the order is fixed, so the
 * test can say exactly what runs when: each preset's segments, then its join, then the next preset.
 */
describe(`segment joins as their own parts (${backend.name})`, () => {
  let srv: TestServer;
  let api: ApiClient;
  let dir = '';
  const calls: string[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-join-order-'));
    srv = await startServer({ SEGMENT_MIN_SECONDS: '20', WORKER_CONCURRENCY: '1' });
    const real: Media = srv.app.deps.media;
    srv.app.deps.media = {
      ...real,
      encodeSegment: (req) => {
        calls.push(`encode ${req.preset.id}`);
        return real.encodeSegment(req);
      },
      joinSegments: async (req) => {
        calls.push(`join ${req.preset.id} start`);
        await real.joinSegments(req);
        calls.push(`join ${req.preset.id} end`);
      },
    };
    api = await ApiClient.signUp(srv.url, 'join-order');
  });

  after(async () => {
    await srv?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('joins each preset once, right after its own segments, and leaves no scratch', async () => {
    const input = path.join(dir, 'forty.wav');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=f=440:r=44100:d=40', '-ac', '2', '-c:a', 'pcm_s16le', input]);
    const up = await api.upload(input, { presets: PRESETS.join(',') });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const file: FileJson = await fileEnded(api, up.body.id, 600_000);
    assert.equal(file.status, 'completed', file.error ?? '');
    assert.deepEqual(file.outputs.map((o) => o.preset).sort(), [...PRESETS].sort());

    // 40 s in 10 s segments: four per preset.
    const expected = PRESETS.flatMap((id) => [...Array<string>(4).fill(`encode ${id}`), `join ${id} start`, `join ${id} end`]);
    assert.deepEqual(calls, expected, 'one slot runs a preset segments, then its join, before the next preset');
    for (const output of file.outputs) {
      const res = await api.request('GET', `/files/${file.id}/outputs/${output.preset}`);
      assert.equal(res.status, 200);
      assert.ok((await res.arrayBuffer()).byteLength > 10_000, `${output.preset} has audio`);
    }
    const left = (await listStoredBlobs(srv.env, srv.dataDir)).filter((k) => /(^|\/)segments\//.test(k));
    assert.deepEqual(left, [], 'segment scratch is removed after the file completes');
  });
});
