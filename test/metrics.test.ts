import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from './helpers/clients.ts';
import { fixtures } from './helpers/audio.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { createLogger } from '../src/log.ts';
import { createMetricsServer } from '../src/web/metrics-server.ts';
import { fileWhen } from './helpers/files.ts';

const TOKEN = 'metrics-token-for-tests-0123456789';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Reads the text exposition line by line; a line that fits no sample shape fails the test. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/i.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key = '', value = ''] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return samples;
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const valueOf = (samples: Sample[], name: string, labels: Record<string, string> = {}) => find(samples, name, labels).reduce((sum, s) => sum + s.value, 0);

async function scrape(srv: TestServer): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, samples: parseExposition(text) };
}

/** A raw request, so header values fetch would refuse to send can be tried. */
function rawGet(url: string, path: string, requestIdBytes: Buffer): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(Buffer.concat([Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-Id: `), requestIdBytes, Buffer.from('\r\n\r\n')]));
    });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

const headerOf = (response: string, name: string) =>
  new RegExp(`^${name}: (.*)$`, 'im').exec(response.split('\r\n\r\n')[0] ?? '')?.[1];

describe('metrics without METRICS_TOKEN', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ WORKER_CONCURRENCY: '0' });
  });
  after(() => srv.close());

  it('answers 404 at /metrics, token or not', async () => {
    assert.equal((await fetch(`${srv.url}/metrics`)).status, 404);
    assert.equal((await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 404);
  });
});

describe('metrics with METRICS_TOKEN', () => {
  let srv: TestServer;
  let alice: ApiClient;
  const received: string[] = [];
  let receiver: http.Server;
  let receiverUrl = '';

  before(async () => {
    // One endpoint that accepts, one that always refuses: one delivery and one failure at least.
    receiver = http.createServer((req, res) => {
      received.push(req.url ?? '');
      req.resume();
      res.writeHead(req.url === '/ok' ? 204 : 500).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    srv = await startServer({ METRICS_TOKEN: TOKEN, WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '3600' });
    alice = await ApiClient.signUp(srv.url, 'alice');
  });
  after(async () => {
    await srv.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('refuses a missing or wrong token with 401 problem+json naming the request id', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-token-of-some-length' }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }]) {
      const res = await fetch(`${srv.url}/metrics`, { headers });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="metrics"');
      const body = (await res.json()) as { code: string; requestId: string };
      assert.equal(body.code, 'unauthenticated');
      assert.match(body.requestId, UUID);
      assert.equal(body.requestId, res.headers.get('x-request-id'));
    }
  });

  it('counts a real upload, its completed job by preset, webhook attempts and route-labelled HTTP durations', async () => {
    for (const path of ['/ok', '/fail']) {
      const created = await alice.json('POST', '/webhooks', { url: `${receiverUrl}${path}` });
      assert.equal(created.status, 201);
    }
    const input = await fixtures.wav();
    const size = (await stat(input)).size;
    const up = await alice.upload(input, { presets: 'mp3-128k,flac-cd' });
    assert.equal(up.status, 201);
    const id = up.body.id;
    await fileWhen(alice, id, (f) => f.status === 'completed', 'the job to complete');
    await waitFor('both webhook attempts', async () => (received.length >= 2 ? true : undefined));

    // The job is counted once its handler returns, a moment after the file says completed.
    const { text, samples } = await waitFor('the job and webhook counters', async () => {
      const s = await scrape(srv);
      const counted = valueOf(s.samples, 'reprise_webhook_deliveries_total') >= 2 && valueOf(s.samples, 'reprise_job_duration_seconds_count') >= 1;
      return counted ? s : undefined;
    });
    assert.ok(valueOf(samples, 'reprise_jobs_completed_total', { preset: 'mp3-128k' }) >= 1);
    assert.ok(valueOf(samples, 'reprise_jobs_completed_total', { preset: 'flac-cd' }) >= 1);
    assert.equal(find(samples, 'reprise_jobs_completed_total', { preset: 'aac-256k' }).length, 0, 'a preset not asked for is not counted');
    assert.ok(valueOf(samples, 'reprise_upload_bytes_total') >= size, `upload bytes ≥ ${size}`);
    assert.ok(valueOf(samples, 'reprise_job_duration_seconds_count', { outcome: 'completed' }) >= 1);
    assert.ok(valueOf(samples, 'reprise_job_queue_wait_seconds_count', { job: 'transcode' }) >= 1);
    assert.ok(valueOf(samples, 'reprise_webhook_delivery_failures_total') >= 1);
    assert.ok(valueOf(samples, 'reprise_webhook_delivery_failures_total') < valueOf(samples, 'reprise_webhook_deliveries_total'));
    // Nothing is queued or running any more: the database gauges say so.
    assert.equal(valueOf(samples, 'reprise_jobs_queued'), 0);
    assert.equal(valueOf(samples, 'reprise_jobs_running'), 0);

    const byRoute = find(samples, 'reprise_http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/files/:id', status_code: '200' });
    assert.ok(byRoute.length === 1 && (byRoute[0]?.value ?? 0) >= 1, 'GET /api/v1/files/:id is counted under its pattern');
    assert.ok(!text.includes(id), 'no raw id in any label');
    assert.ok(!text.includes(TOKEN), 'the token is never shown');
  });

  it('gives every URL no route matched one label', async () => {
    const stray = `/no-such-place-${Date.now()}`;
    assert.equal((await fetch(`${srv.url}${stray}`)).status, 404);
    assert.equal((await fetch(`${srv.url}/api/v1${stray}`)).status, 404);
    const { text, samples } = await scrape(srv);
    assert.ok(valueOf(samples, 'reprise_http_request_duration_seconds_count', { route: 'unmatched', status_code: '404' }) >= 2);
    assert.ok(!text.includes(stray));
  });

  it('shows open event streams going up while one is open and back down after', async () => {
    const open = async () => valueOf((await scrape(srv)).samples, 'reprise_event_streams_open');
    const before = await open();
    const controller = new AbortController();
    const res = await fetch(`${srv.url}/api/v1/events`, { headers: { authorization: `Bearer ${alice.token}` }, signal: controller.signal });
    assert.equal(res.status, 200);
    assert.equal(await open(), before + 1);
    controller.abort();
    await waitFor('the stream to be counted closed', async () => ((await open()) === before ? true : undefined));
  });

  it('shows a running job by preset and its worker\'s heartbeat, read from the database at scrape time', async () => {
    const up = await alice.upload(await fixtures.longWav(), { presets: 'aac-256k,mp3-320k' });
    assert.equal(up.status, 201);
    const { samples } = await waitFor('the job to be seen running', async () => {
      const s = await scrape(srv);
      return valueOf(s.samples, 'reprise_jobs_running', { preset: 'aac-256k' }) === 1 ? s : undefined;
    });
    assert.equal(valueOf(samples, 'reprise_jobs_running', { preset: 'mp3-320k' }), 1);
    assert.equal(find(samples, 'reprise_jobs_running', { preset: 'flac-cd' }).length, 0);
    // Both queues keep a heartbeat for a worker holding a job (graphile-worker for idle ones too).
    const beats = find(samples, 'reprise_worker_heartbeat_age_seconds');
    assert.ok(beats.length >= 1, 'a heartbeat series');
    for (const beat of beats) assert.ok(beat.value >= 0 && beat.value < 60, `heartbeat age ${beat.value}`);
    // It may finish first; either way it leaves the gauge.
    assert.ok((await alice.request('POST', `/files/${up.body.id}/cancel`)).status < 500);
    await waitFor('the canceled job to leave the gauge', async () => (valueOf((await scrape(srv)).samples, 'reprise_jobs_running') === 0 ? true : undefined));
  });

  it('is not part of the API description', async () => {
    const { body } = await new ApiClient(srv.url).json<{ paths: Record<string, unknown> }>('GET', '/openapi.json');
    assert.ok(!Object.keys(body.paths).some((p) => p.includes('metrics')));
  });
});

describe('request ids', () => {
  let srv: TestServer;
  let alice: ApiClient;
  before(async () => {
    srv = await startServer({ WORKER_CONCURRENCY: '0' });
    alice = await ApiClient.signUp(srv.url, 'ana');
  });
  after(() => srv.close());

  it('puts the X-Request-Id header into every problem+json', async () => {
    const answers = [
      await alice.request('GET', '/files/00000000-0000-4000-8000-000000000000'),
      await alice.request('GET', '/files/not-an-id'),
      await new ApiClient(srv.url).request('GET', '/files'),
      await alice.request('POST', '/tokens', { name: 'x', expiresInDays: 'soon' }),
      await alice.request('POST', '/files', '{not json'),
      await alice.request('GET', '/nothing-here'),
      await alice.request('POST', '/uploads', undefined, { 'tus-resumable': '1.0.0', 'upload-length': '10' }),
    ];
    for (const res of answers) {
      assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
      const header = res.headers.get('x-request-id');
      assert.match(header ?? '', UUID);
      const body = JSON.parse(await res.text()) as { requestId?: string };
      assert.equal(body.requestId, header, `${res.url} ${res.status}`);
    }
  });

  it('keeps a short, plain incoming X-Request-Id and uses it in logs and answers', async () => {
    const res = await alice.request('GET', '/files/00000000-0000-4000-8000-000000000000', undefined, { 'x-request-id': 'edge-7f3a.42:1' });
    assert.equal(res.headers.get('x-request-id'), 'edge-7f3a.42:1');
    assert.equal(((await res.json()) as { requestId: string }).requestId, 'edge-7f3a.42:1');
    const ok = await alice.request('GET', '/presets', undefined, { 'x-request-id': 'edge-1' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-request-id'), 'edge-1');
  });

  it('does not echo a hostile X-Request-Id', async () => {
    const hostile = [
      Buffer.from('a'.repeat(500)),
      Buffer.from('abc\rSet-Cookie: x=1'),
      Buffer.from('abc\nSet-Cookie: x=1'),
      Buffer.from('<script>alert(1)</script>'),
      Buffer.from('id with spaces'),
      Buffer.from([0x61, 0xe9, 0x62]),
    ];
    for (const bytes of hostile) {
      const answer = await rawGet(srv.url, '/api/v1/presets', bytes);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
      // Node itself refuses a bare CR or LF in a header (400, no id); anything it lets through gets a fresh id.
      if (status === 400 && headerOf(answer, 'x-request-id') === undefined) continue;
      assert.equal(status, 200, answer.slice(0, 200));
      assert.match(headerOf(answer, 'x-request-id') ?? '', UUID);
      assert.ok(!answer.includes('Set-Cookie: x=1') && !answer.includes('aaaaaaaaaa') && !answer.includes('<script>'));
    }
  });
});

describe('a worker process with METRICS_TOKEN', () => {
  let srv: TestServer;
  let base = '';
  let close = async () => {};
  before(async () => {
    srv = await startServer({ METRICS_TOKEN: TOKEN, WORKER_CONCURRENCY: '0' });
    assert.ok(srv.app.metrics);
    // What `reprise worker` starts on PORT: the same exporter, no pages and no API.
    const server = await createMetricsServer(srv.app.metrics, srv.app.deps.config, createLogger('silent'));
    await server.listen({ port: 0, host: '127.0.0.1' });
    const address = server.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    close = () => server.close();
  });
  after(async () => {
    await close();
    await srv.close();
  });

  it('serves /metrics with the token, 401 without, and 404 problem+json elsewhere', async () => {
    const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.ok(parseExposition(await ok.text()).some((s) => s.name === 'reprise_upload_bytes_total'));
    for (const [url, status] of [['/metrics', 401], ['/api/v1/files', 404]] as const) {
      const res = await fetch(`${base}${url}`);
      assert.equal(res.status, status);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(((await res.json()) as { requestId: string }).requestId, res.headers.get('x-request-id'));
    }
  });
});
