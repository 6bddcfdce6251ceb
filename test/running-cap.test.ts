import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixtures } from './helpers/audio.ts';
import { ApiClient } from './helpers/clients.ts';
import { fileEnded } from './helpers/files.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';

interface JobsView {
  perUser: { username: string; queued: number; running: number }[];
}

/**
 * Two slots, a cap of one running job per user while another user waits (decision 0024): in
 * whichever mode the run provides (SQLite + embedded queue, or PostgreSQL + graphile-worker).
 * Work is queued while claiming is paused, so every claim below is the cap's choice.
 */
describe('per-user cap on running jobs', () => {
  let srv: TestServer;
  let admin: ApiClient;
  before(async () => {
    srv = await startServer({ WORKER_CONCURRENCY: '2', USER_MAX_RUNNING: '1', SEGMENT_MIN_SECONDS: '10' });
    admin = await ApiClient.signUp(srv.url, 'operator');
  });
  after(() => srv.close());

  const pause = async () => assert.equal((await admin.json('POST', '/admin/queue/pause')).status, 200);
  const resume = async () => assert.equal((await admin.json('POST', '/admin/queue/resume')).status, 200);
  const perUser = async () => {
    const view = await admin.json<JobsView>('GET', '/admin/jobs');
    assert.equal(view.status, 200);
    return new Map(view.body.perUser.map((u) => [u.username, u]));
  };
  // FLAC and Vorbis are encoded in one pass (decision 0020): one file is one running job, so
  // the admin view's running files are the user's running jobs. Seven minutes of noise keeps
  // each job running for seconds: with a 70 s tone two jobs overlapped too briefly to be seen
  // (failed once in scale-out CI).
  const uploadMany = async (client: ApiClient, n: number, name: string) => {
    const input = await fixtures.long();
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const up = await client.upload(input, { presets: 'flac-cd,vorbis-q5', name: `${name} ${i}` });
      assert.equal(up.status, 201, JSON.stringify(up.body));
      ids.push(up.body.id);
    }
    return ids;
  };

  it('lets a user alone on the instance run on every slot', async () => {
    const alone = await ApiClient.signUp(srv.url, 'alone');
    await pause();
    const ids = await uploadMany(alone, 2, 'alone');
    await resume();
    const both = await waitFor('two of the lone user\'s files running at once', async () => ((await perUser()).get('alone')?.running === 2 ? true : undefined), 120_000);
    assert.equal(both, true);
    for (const id of ids) assert.equal((await fileEnded(alone, id, 180_000)).status, 'completed');
  });

  it('never gives a second slot to a busy user while another user waits', async () => {
    const busy = await ApiClient.signUp(srv.url, 'busy');
    const other = await ApiClient.signUp(srv.url, 'other');
    await pause();
    const busyIds = await uploadMany(busy, 4, 'busy');
    const otherIds = await uploadMany(other, 2, 'other');
    await resume();
    let sawBoth = false;
    // Sampled until the other user has nothing left waiting: every sample must respect the cap.
    for (;;) {
      const users = await perUser();
      const b = users.get('busy');
      const o = users.get('other');
      if (!o || o.queued === 0) break;
      assert.ok((b?.running ?? 0) <= 1, `busy runs ${b?.running} while other has ${o.queued} queued`);
      if ((b?.running ?? 0) === 1 && o.running === 1) sawBoth = true;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const id of otherIds) assert.equal((await fileEnded(other, id, 180_000)).status, 'completed');
    for (const id of busyIds) assert.equal((await fileEnded(busy, id, 180_000)).status, 'completed');
    assert.ok(sawBoth, 'both users were seen running one job each');
  });

  it("counts a long file's segments as its user's: another user's file is not starved behind them", async () => {
    const long = await ApiClient.signUp(srv.url, 'long');
    const short = await ApiClient.signUp(srv.url, 'short');
    const up = await long.upload(await fixtures.longWav(), { presets: 'aac-256k,mp3-320k,opus-96k', name: 'long' });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    // The split commits the plan and all its parts together: once the plan is there, every part is queued.
    await waitFor('the long file split in parts', async () => ((await srv.app.db.selectFrom('segment_runs').select('file_id').where('file_id', '=', up.body.id).executeTakeFirst()) ? true : undefined), 120_000);
    const single = await short.upload(await fixtures.wav(), { presets: 'flac-cd', name: 'single' });
    assert.equal(single.status, 201);
    const singleDone = await fileEnded(short, single.body.id, 180_000);
    assert.equal(singleDone.status, 'completed', singleDone.error ?? '');
    const longNow = await long.json<{ status: string }>('GET', `/files/${up.body.id}`);
    // Parts are ordered before a later file of the same priority: without the cap the single file waits for all 24.
    assert.equal(longNow.body.status, 'running', 'the single file finished while the long one was still being encoded');
    assert.equal((await fileEnded(long, up.body.id, 300_000)).status, 'completed');
  });
});
