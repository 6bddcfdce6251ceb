import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config.ts';
import { buildApp, type App } from '../src/deps.ts';
import { createLogger } from '../src/log.ts';
import { createServer } from '../src/web/server.ts';
import { freshBackendEnv } from './helpers/backends.ts';
import { PageClient } from './helpers/clients.ts';

/**
 * An error thrown anywhere in request handling answers 500 for that request and the process keeps
 * serving. The routes below are added to a real server for this test only; each throws from a
 * different place Fastify runs code (handler, hooks, serializer, a header Node refuses).
 */
describe('an error anywhere in a request answers 500 and the server stays up', () => {
  let app: App;
  let server: FastifyInstance;
  let url = '';
  let dataDir = '';

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'reprise-crash-proof-'));
    const config = loadConfig({ LOG_LEVEL: 'silent', WORKER_CONCURRENCY: '0', ...(await freshBackendEnv()), DATA_DIR: dataDir });
    app = await buildApp(config, createLogger(config.logLevel));
    server = await createServer(app, 'test-secret-that-is-long-enough-for-sessions');
    const boom = () => {
      throw new Error('boom');
    };
    server.get('/boom/handler', boom);
    server.get('/boom/async', async () => Promise.reject(new Error('async boom')));
    server.get('/boom/on-request', { onRequest: async () => boom() }, () => 'unreachable');
    server.get('/boom/pre-handler', { preHandler: async () => boom() }, () => 'unreachable');
    server.get('/boom/on-send', { onSend: async () => boom() }, () => 'ok');
    server.get('/boom/serializer', { schema: { response: { 200: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } } } }, () => ({ n: 'not a number' }));
    server.get('/boom/to-json', () => ({ toJSON: boom }));
    server.get('/boom/header-crlf', (_request, reply) => reply.header('x-evil', 'a\r\nSet-Cookie: pwned=1').send('ok'));
    server.get('/boom/header-unicode', (_request, reply) => reply.header('x-name', 'file-✓.mp3').send('ok'));
    server.get('/boom/redirect', (_request, reply) => reply.redirect('/files/✓\r\n', 303));
    server.get('/api/v1/boom', boom);
    await server.listen({ port: 0, host: '127.0.0.1' });
    const address = server.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(async () => {
    await server.close();
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const places = ['handler', 'async', 'on-request', 'pre-handler', 'on-send', 'serializer', 'to-json', 'header-crlf', 'header-unicode', 'redirect'];
  for (const place of places) {
    it(`from ${place}`, async () => {
      const res = await fetch(`${url}/boom/${place}`, { redirect: 'manual' });
      assert.equal(res.status, 500);
      assert.equal(res.headers.get('x-evil'), null);
      assert.equal(res.headers.get('set-cookie')?.includes('pwned') ?? false, false);
      // A hook that throws on every send also throws while the error page is sent; Fastify then
      // falls back to its own minimal answer. Still a 500, still up.
      if (place !== 'on-send') assert.match(await res.text(), /Something went wrong on our side/);
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
    });
  }

  it('answers problem+json for the API', async () => {
    const res = await fetch(`${url}/api/v1/boom`);
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const body = (await res.json()) as { detail: string };
    assert.doesNotMatch(body.detail, /boom/);
  });

  it('keeps serving real pages after all of that', async () => {
    const client = await PageClient.signUp(url, 'survivor');
    const files = await client.get('/files');
    assert.equal(files.status, 200);
    assert.match(files.html, /survivor/);
  });
});
