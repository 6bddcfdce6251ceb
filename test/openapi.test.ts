import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { openApiDocument } from '../src/web/openapi.ts';

/** Full paths from Fastify's route tree ("├── segment (METHODS)", four columns per level). */
function fullPaths(tree: string): string[] {
  const stack: string[] = [];
  const paths: string[] = [];
  for (const line of tree.split('\n')) {
    const at = line.indexOf('── ');
    if (at < 0) continue;
    const depth = Math.round((at - 1) / 4);
    const segment = line.slice(at + 3).replace(/ \([A-Z, ]+\)$/, '');
    stack.length = depth;
    const parent = stack[depth - 1] ?? '';
    const joined = parent.endsWith('/') || segment.startsWith('/') || parent === '' ? `${parent}${segment}` : `${parent}/${segment}`;
    stack[depth] = joined;
    if (/\([A-Z, ]+\)$/.test(line)) paths.push(joined.replace(/\/+/g, '/'));
  }
  return paths;
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document, by an independent validator', async () => {
    const validator = new Validator();
    const result = await validator.validate(openApiDocument());
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2)?.slice(0, 3000));
    assert.equal(validator.version, '3.1');
  });

  it('describes every API route the server has', async () => {
    const { startServer } = await import('./helpers/server.ts');
    const srv = await startServer({ WORKER_CONCURRENCY: '0' });
    try {
      const documented = new Set(Object.keys(openApiDocument().paths).map((p) => `/api/v1${p.replace(/\{(\w+)\}/g, ':$1')}`));
      const routes = fullPaths(srv.server.printRoutes({ commonPrefix: false }))
        .filter((p) => p.startsWith('/api/v1/') && p !== '/api/v1/openapi.json')
        .map((p) => p.replace(/:uploadId/, ':id'));
      assert.ok(routes.length >= 15, `only ${routes.length} API routes found: ${routes.join(' ')}`);
      assert.ok(routes.includes('/api/v1/webhooks/:id/deliveries/:deliveryId/replay'));
      const missing = [...new Set(routes)].filter((r) => !documented.has(r));
      assert.deepEqual(missing, []);
    } finally {
      await srv.close();
    }
  });
});
