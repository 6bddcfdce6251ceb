import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixtures } from './helpers/audio.ts';
import { ApiClient } from './helpers/clients.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { fileEnded } from './helpers/files.ts';

/**
 * One worker slot, one user with a backlog, another with a single file: the single file goes
 * next, not after the backlog (jobs interleave across users; see EnqueueOptions.priority).
 */
describe('fair queue', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ WORKER_CONCURRENCY: '1' });
  });
  after(() => srv.close());

  it("runs another user's single file before the rest of one user's backlog", async () => {
    const busy = await ApiClient.signUp(srv.url, 'backlog');
    const other = await ApiClient.signUp(srv.url, 'newcomer');
    const input = await fixtures.longWav();
    const backlog: string[] = [];
    for (let i = 0; i < 5; i++) {
      const up = await busy.upload(input, { presets: 'aac-256k', name: `backlog ${i}` });
      assert.equal(up.status, 201, JSON.stringify(up.body));
      backlog.push(up.body.id);
    }
    const single = await other.upload(input, { presets: 'aac-256k', name: 'single' });
    assert.equal(single.status, 201);

    const singleDone = await fileEnded(other, single.body.id, 180_000);
    const backlogDone = await Promise.all(backlog.map((id) => fileEnded(busy, id, 180_000)));
    assert.equal(singleDone.status, 'completed', singleDone.error ?? '');
    const after = backlogDone.filter((f) => Date.parse(f.updatedAt) > Date.parse(singleDone.updatedAt));
    // First come, first served would finish it after all five; fair order after at most two.
    assert.ok(after.length >= 3, `${after.length} of the backlog finished after the newcomer's single file`);
  });
});
