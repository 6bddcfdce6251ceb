import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { routeTable } from './helpers/fuzz-routes.ts';
import { startServer, type TestServer } from './helpers/server.ts';

type Operation = { summary?: string; responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }> };
type Document = { openapi: string; servers: { url: string }[]; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

describe('the OpenAPI document, generated from the route schemas', () => {
  let srv: TestServer;
  let doc: Document;
  before(async () => {
    srv = await startServer({ WORKER_CONCURRENCY: '0' });
    const res = await fetch(`${srv.url}/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    doc = (await res.json()) as Document;
  });
  after(() => srv.close());

  it('is a valid OpenAPI 3.1 document, by an independent validator', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2)?.slice(0, 3000));
    assert.equal(validator.version, '3.1');
    assert.deepEqual(doc.servers, [{ url: '/api/v1' }]);
  });

  it('describes every method of every API route the server has, and nothing else', () => {
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} /api/v1${p.replace(/\{(\w+)\}/g, ':$1')}`)),
    );
    const routes = routeTable(srv.server).filter((r) => r.path.startsWith('/api/v1/') && r.path !== '/api/v1/openapi.json');
    assert.ok(routes.length >= 20, `only ${routes.length} API routes found: ${routes.map((r) => r.path).join(' ')}`);
    const registered = routes.flatMap((r) =>
      // Fastify answers HEAD for every GET by itself: that is the GET, described once. A HEAD of
      // its own (tus's offset) is described separately.
      r.methods.filter((m) => !(m === 'HEAD' && r.methods.includes('GET') && !documented.has(`HEAD ${r.path}`))).map((m) => `${m} ${r.path}`),
    );
    for (const expected of ['POST /api/v1/webhooks/:id/deliveries/:deliveryId/replay', 'PATCH /api/v1/uploads/:uploadId', 'HEAD /api/v1/uploads/:uploadId', 'POST /api/v1/files']) {
      assert.ok(registered.includes(expected), expected);
    }
    assert.deepEqual(registered.filter((r) => !documented.has(r)), [], 'routes missing from the document');
    assert.deepEqual([...documented].filter((d) => !registered.includes(d)), [], 'documented routes the server does not have');
    assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/api/') || p === '/files/{id}/edit' || p === '/login'), 'pages stay out');
  });

  it('gives every operation a summary, a success answer with its schema, and problem+json errors', () => {
    const problems: string[] = [];
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${p}`;
        const responses = Object.entries(op.responses ?? {});
        if (!op.summary) problems.push(`${where}: no summary`);
        // @fastify/swagger writes "Default Response" where a route declares no response schema.
        if (responses.some(([, r]) => r.description === 'Default Response')) problems.push(`${where}: no response schema`);
        const success = responses.filter(([status]) => /^2\d\d$/.test(status));
        if (success.length === 0) problems.push(`${where}: no 2xx answer`);
        for (const [status, r] of success) {
          if (status !== '204' && !r.content && !/headers?/i.test(r.description ?? '') && !/Location/.test(r.description ?? '')) problems.push(`${where}: ${status} has no content`);
        }
        for (const [status, r] of responses.filter(([s]) => /^[45]\d\d$/.test(s))) {
          if (status === '416') continue;
          const schema = r.content?.['application/problem+json']?.schema;
          if (JSON.stringify(schema) !== JSON.stringify({ $ref: '#/components/schemas/Problem' })) problems.push(`${where}: ${status} is not the shared Problem`);
        }
      }
    }
    assert.deepEqual(problems, []);
    for (const name of ['Problem', 'File', 'Output', 'Token', 'NewToken', 'Preset', 'Notification', 'WebhookEndpoint', 'WebhookDelivery', 'Credentials']) {
      assert.ok(name in doc.components.schemas, `components/schemas/${name}`);
    }
  });

  it('keeps the refusal reasons that clients program against', () => {
    const text = JSON.stringify(doc);
    for (const code of ['too_large', 'unsupported_media', 'storage_full', 'read_only_token', 'invalid_token_name', 'invalid_expiry', 'webhook_url_forbidden', 'too_many_uploads', 'too_many_streams', 'not_cancelable', 'missing_filename']) {
      assert.ok(text.includes(code), code);
    }
    const expiry = (doc.paths['/tokens']?.post as { requestBody?: { content: Record<string, { schema: { properties: Record<string, Record<string, unknown>> } }> } }).requestBody;
    assert.equal(expiry?.content['application/json']?.schema.properties.expiresInDays?.['x-problem-code'], 'invalid_expiry');
  });
});
