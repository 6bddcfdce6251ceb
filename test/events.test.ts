import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient, PageClient } from './helpers/clients.ts';
import { fixtures } from './helpers/audio.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { fileWhen } from './helpers/files.ts';

interface SseEvent {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

/** A minimal SSE client over fetch, keeping every event it has seen. */
class EventStream {
  events: SseEvent[] = [];
  /** The server ended the stream. */
  ended = false;
  private controller = new AbortController();
  opened: Promise<void>;

  constructor(base: string, token: string, lastEventId?: string) {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    this.opened = fetch(`${base}/api/v1/events`, { headers, signal: this.controller.signal }).then((res) => {
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      void this.read(res.body!);
    });
  }

  private async read(body: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
          if (fields.event) this.events.push({ id: fields.id ?? '', event: fields.event, data: JSON.parse(fields.data ?? '{}') as Record<string, unknown> });
        }
      }
      this.ended = true;
    } catch {
      /* aborted */
    }
  }

  of(type: string) {
    return this.events.filter((e) => e.event === type);
  }

  close() {
    this.controller.abort();
  }
}

describe('live events (SSE)', () => {
  let srv: TestServer;
  let alice: ApiClient;
  let bob: ApiClient;
  before(async () => {
    srv = await startServer();
    alice = await ApiClient.signUp(srv.url, 'alice');
    bob = await ApiClient.signUp(srv.url, 'bob');
  });
  after(() => srv.close());

  it("delivers a user's events to every one of their streams, and to nobody else's", async () => {
    const aliceTab1 = new EventStream(srv.url, alice.token);
    const aliceTab2 = new EventStream(srv.url, alice.token);
    const bobTab = new EventStream(srv.url, bob.token);
    await Promise.all([aliceTab1.opened, aliceTab2.opened, bobTab.opened]);
    try {
      const up = await alice.upload(await fixtures.wav(), { presets: 'flac-cd' });
      const created = await waitFor('notification on both tabs', async () =>
        aliceTab1.of('notification.created').length && aliceTab2.of('notification.created').length ? aliceTab1.of('notification.created')[0] : undefined, 30_000);
      assert.equal(created.data.fileId, up.body.id);
      assert.match(String(created.data.message), /has been processed/);
      const updates = aliceTab1.of('file.updated').map((e) => e.data);
      assert.ok(updates.some((d) => d.status === 'running'));
      const final = updates.find((d) => d.status === 'completed');
      assert.ok(final && Array.isArray(final.outputs) && final.outputs.length === 1, 'the completed event carries the outputs');

      const dismissed = await alice.json<{ id: string }>('POST', `/notifications/${String(created.data.id)}/dismiss`);
      assert.equal(dismissed.status, 200);
      await waitFor('dismissal on the other tab', async () => (aliceTab2.of('notification.dismissed').length ? true : undefined), 10_000);
      assert.deepEqual(aliceTab2.of('notification.dismissed')[0]?.data, { ids: [created.data.id] });

      assert.deepEqual(bobTab.events.filter((e) => e.event !== 'ready'), [], "Bob's stream saw none of Alice's events");
      const ids = aliceTab1.events.map((e) => Number(e.id));
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'ids increase');
    } finally {
      aliceTab1.close();
      aliceTab2.close();
      bobTab.close();
    }
  });

  it('replays what a dropped connection missed, from Last-Event-ID', async () => {
    const first = new EventStream(srv.url, alice.token);
    await first.opened;
    await waitFor('ready', async () => (first.of('ready').length ? true : undefined));
    const lastSeen = first.events.at(-1)!.id;
    first.close();

    // While nobody listens, a job runs to completion.
    const up = await alice.upload(await fixtures.wav(), { presets: 'mp3-128k' });
    await fileWhen(alice, up.body.id, (f) => f.status === 'completed', 'completion');

    const resumed = new EventStream(srv.url, alice.token, lastSeen);
    await resumed.opened;
    try {
      const missed = await waitFor('replayed notification', async () => resumed.of('notification.created').find((e) => e.data.fileId === up.body.id), 10_000);
      assert.ok(Number(missed.id) > Number(lastSeen));
      assert.ok(resumed.of('file.updated').some((e) => e.data.id === up.body.id && e.data.status === 'completed'));
      assert.equal(resumed.of('ready').length, 0, 'a resumed stream does not restart from now');
    } finally {
      resumed.close();
    }
  });

  it('refuses a stream without credentials', async () => {
    const res = await fetch(`${srv.url}/api/v1/events`);
    assert.equal(res.status, 401);
    await res.text();
  });
});

describe('open event streams and credentials that stop being valid', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ EVENT_HEARTBEAT_SECONDS: '1' });
  });
  after(() => srv.close());

  it('ends a stream whose token is revoked, and only that one', async () => {
    const carol = await ApiClient.signUp(srv.url, 'carol');
    const named = await carol.json<{ id: string; token: string }>('POST', '/tokens', { name: 'dashboard' });
    assert.equal(named.status, 201);
    const revoked = new EventStream(srv.url, named.body.token);
    const kept = new EventStream(srv.url, carol.token);
    await Promise.all([revoked.opened, kept.opened]);
    assert.equal((await carol.json('DELETE', `/tokens/${named.body.id}`)).status, 204);
    await waitFor('the revoked stream ended', async () => (revoked.ended ? true : undefined), 5_000);
    assert.equal(revoked.of('unauthorized').length, 1);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(kept.ended, false, 'a stream with a valid token stays open');
    kept.close();
  });

  it('ends a browser stream when its session signs out', async () => {
    const page = await PageClient.signUp(srv.url, 'dave');
    const res = await page.fetch('/api/v1/events', { method: 'GET', headers: { accept: 'text/event-stream' } });
    assert.equal(res.status, 200);
    const reading = (async () => {
      let text = '';
      for await (const chunk of res.body!) text += new TextDecoder().decode(chunk);
      return text;
    })();
    await page.post('/logout', {});
    const text = await Promise.race([reading, new Promise<string>((_, reject) => setTimeout(() => reject(new Error('the stream stayed open after sign-out')), 5_000))]);
    assert.match(text, /event: unauthorized/);
  });
});
