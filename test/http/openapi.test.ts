import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validate } from '@readme/openapi-parser';
import { ERROR_CATALOGUE } from '../../src/errors.js';
import { backends } from '../helpers/backends.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const sqlite = (await backends())[0]!;

describe('OpenAPI document', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(sqlite);
  });
  after(async () => {
    await t?.close();
  });

  it('is served without a key and validates as OpenAPI 3.1', async () => {
    const response = await t.call('GET', '/openapi.json', { key: null });
    assert.equal(response.statusCode, 200);
    const document = response.json() as { openapi: string };
    assert.equal(document.openapi, '3.1.0');
    const result = await validate(structuredClone(document) as never);
    assert.equal(result.valid, true, JSON.stringify((result as { errors?: unknown }).errors ?? null));
  });

  it('documents every route the app serves, with the error envelope on each', async () => {
    const document = (await t.call('GET', '/openapi.json', { key: null })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> }>>;
    };
    const served = new Set<string>();
    for (const route of t.app.servedRoutes) {
      // The web console's pages are for browsers, hidden from the API document (schema.hide).
      if (route.url.startsWith('/docs') || route.url.startsWith('/console') || route.method === 'HEAD') continue;
      const path = route.url.replace(/:([A-Za-z_]+)/g, '{$1}');
      served.add(`${route.method} ${path}`);
    }
    const documented = new Set<string>();
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        documented.add(`${method.toUpperCase()} ${path}`);
        const errors = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400);
        assert.ok(errors.length > 0, `${method} ${path} lists no error response`);
        for (const [status, response] of errors) {
          // /readyz answers 503 with its readiness report, on purpose: probes read the checks.
          if (path === '/readyz') continue;
          const schema = response.content?.['application/json']?.schema;
          assert.ok(schema?.properties?.error, `${method} ${path} ${status} is not the error envelope`);
        }
      }
    }
    assert.ok(served.size > 30, `only ${served.size} routes collected`);
    assert.deepEqual([...documented].filter((r) => r.includes(' /console')), [], 'console pages stay out of the API document');
    assert.deepEqual([...served].filter((r) => !documented.has(r)), []);
  });

  it('has a browsable page at /docs', async () => {
    const response = await t.call('GET', '/docs/', { key: null });
    assert.equal(response.statusCode, 200);
    assert.match(response.body, /swagger/i);
  });

  it('every catalogue code has a 4xx or 5xx status', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) assert.ok(entry.status >= 400 && entry.status < 600, code);
  });
});
