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
      paths: Record<
        string,
        Record<
          string,
          {
            responses: Record<
              string,
              { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }
            >;
          }
        >
      >;
    };
    const served = new Set<string>();
    for (const route of t.app.servedRoutes) {
      // The web console's pages are for browsers, hidden from the API document (schema.hide).
      if (route.url.startsWith('/docs') || route.url.startsWith('/console') || route.method === 'HEAD') continue;
      // The vendor-prefixed twins are served but hidden: their /v1 route stands for them.
      const path = route.url.replace(/:([A-Za-z_]+)/g, '{$1}').replace(/^\/api\/scheduling\/v1\//, '/v1/');
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
          // The batch vendor's routes answer in its envelope, the others in the cohort vendor's.
          const envelope = path.startsWith('/api/call/') ? schema?.properties?.errorMessage : schema?.properties?.error;
          assert.ok(envelope, `${method} ${path} ${status} is not the error envelope of its vendor`);
        }
      }
    }
    assert.ok(served.size > 30, `only ${served.size} routes collected`);
    assert.deepEqual(
      [...documented].filter((r) => r.includes(' /console')),
      [],
      'console pages stay out of the API document',
    );
    assert.deepEqual(
      [...served].filter((r) => !documented.has(r)),
      [],
    );
  });

  it('shows the config schema for the upload file part and the from-URL body', async () => {
    type Schema = { properties?: Record<string, Schema>; contentSchema?: Schema; required?: string[] };
    type Operation = { requestBody: { content: Record<string, { schema: Schema }> } };
    const document = (await t.call('GET', '/openapi.json', { key: null })).json() as {
      paths: Record<string, Record<string, Operation>>;
    };
    const base = '/v1/orgs/{org_id}/workspaces/{workspace_id}/deployments/{deployment_id}/cohorts';
    const upload = document.paths[`${base}/upload`]?.post?.requestBody.content['multipart/form-data']?.schema;
    const fromUrl = document.paths[base]?.post?.requestBody.content['application/json']?.schema;
    const configs = [
      upload?.properties?.['cohort_transformation_file']?.contentSchema,
      fromUrl?.properties?.['cohort_transformation'],
    ];
    for (const config of configs) {
      assert.deepEqual(Object.keys(config?.properties ?? {}), [
        'phone_number',
        'user_identifier',
        'app_variables',
        'app_overrides',
      ]);
      assert.deepEqual(config?.required, ['phone_number']);
      assert.deepEqual(config?.properties?.['phone_number']?.required, ['column_name']);
    }
  });

  it('documents the dry run (under /v1; its twin under the other prefix is served, not listed): the upload form with name optional, its answer and its errors', async () => {
    type Operation = {
      requestBody: { content: Record<string, { schema: { required?: string[]; properties?: object } }> };
      responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }>;
    };
    const document = (await t.call('GET', '/openapi.json', { key: null })).json() as {
      paths: Record<string, Record<string, Operation>>;
    };
    for (const prefix of ['/v1']) {
      const path = `${prefix}/orgs/{org_id}/workspaces/{workspace_id}/deployments/{deployment_id}/cohorts/validate`;
      const operation = document.paths[path]?.post;
      assert.ok(operation, path);
      const body = operation.requestBody.content['multipart/form-data']?.schema;
      assert.deepEqual(body?.required, ['cohort_file', 'cohort_transformation_file']);
      assert.deepEqual(Object.keys(body?.properties ?? {}), ['name', 'cohort_file', 'cohort_transformation_file']);
      for (const status of ['200', '404', '413', '415', '422'])
        assert.ok(operation.responses[status], `${path} ${status}`);
      const answer = operation.responses['200']?.content?.['application/json']?.schema;
      assert.deepEqual(Object.keys(answer?.properties ?? {}), [
        'total_records',
        'valid_records',
        'rejected_records',
        'rejections_by_reason',
        'rejected_rows',
      ]);
    }
  });

  it('documents the mapping suggestion (under /v1; its twin under the other prefix is served, not listed): the CSV part, its answer and its errors', async () => {
    type Operation = {
      requestBody: { content: Record<string, { schema: { required?: string[] } }> };
      responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }>;
    };
    const document = (await t.call('GET', '/openapi.json', { key: null })).json() as {
      paths: Record<string, Record<string, Operation>>;
    };
    for (const prefix of ['/v1']) {
      const path = `${prefix}/orgs/{org_id}/workspaces/{workspace_id}/deployments/{deployment_id}/cohorts/mapping-suggestion`;
      const operation = document.paths[path]?.post;
      assert.ok(operation, path);
      assert.deepEqual(operation.requestBody.content['multipart/form-data']?.schema.required, ['cohort_file']);
      for (const status of ['200', '404', '415', '422']) assert.ok(operation.responses[status], `${path} ${status}`);
      const answer = operation.responses['200']?.content?.['application/json']?.schema;
      assert.deepEqual(Object.keys(answer?.properties ?? {}), [
        'columns',
        'suggestion',
        'matched',
        'unmapped_required',
      ]);
    }
  });

  it('has a browsable page at /docs titled Roster API', async () => {
    const response = await t.call('GET', '/docs/', { key: null });
    assert.equal(response.statusCode, 200);
    assert.match(response.body, /swagger/i);
    assert.match(response.body, /<title>Roster API<\/title>/);
    const document = (await t.call('GET', '/openapi.json', { key: null })).json() as { info: { title: string } };
    assert.equal(document.info.title, 'Roster API');
  });

  it('hides the vendor-prefixed twins of the cohort routes, which still answer', async () => {
    const document = (await t.call('GET', '/openapi.json', { key: null })).json() as {
      paths: Record<string, unknown>;
      info: { description: string };
    };
    assert.deepEqual(
      Object.keys(document.paths).filter((p) => p.startsWith('/api/scheduling/')),
      [],
    );
    assert.match(document.info.description, /\/api\/scheduling\/v1/);
    const twin = await t.call('GET', '/api/scheduling/v1/orgs/nobody/workspaces/main/deployments/none/cohorts', {});
    assert.equal(twin.statusCode, 404, 'served (the deployment does not exist), not a missing route');
    assert.equal((twin.json() as { error: { code: string } }).error.code, 'not_found');
  });

  // Every route lists the codes it answers with (config.errorCodes): each code is in the catalogue,
  // under the status it is sent with on that route (the batch vendor's on /api/call), with an example
  // envelope. Whether the lists are complete is checked where the codes are sent: the test harness
  // fails a suite whose requests get a code their route does not list (test/helpers/test-app.ts).
  it('documents every error code each route can raise, with an example envelope', async () => {
    type Response = {
      description: string;
      content?: Record<string, { example?: unknown; examples?: Record<string, { value: unknown }> }>;
    };
    const document = (await t.call('GET', '/openapi.json', { key: null })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, Response> }>>;
    };
    const publicPaths = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json']);
    let checked = 0;
    for (const [path, operations] of Object.entries(document.paths)) {
      if (publicPaths.has(path)) continue;
      const batchVendor = path.startsWith('/api/call');
      for (const [method, operation] of Object.entries(operations)) {
        const errors = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400);
        const codes = new Set<string>();
        for (const [status, response] of errors) {
          const listed = /\. Codes: ([a-z_, ]+)$/.exec(response.description)?.[1];
          assert.ok(listed, `${method} ${path} ${status} lists its codes: "${response.description}"`);
          // @fastify/swagger moves the schema's examples to the media type: `example` for one, `examples` for more.
          const media = response.content?.['application/json'];
          const examples = (
            media?.example !== undefined ? [media.example] : Object.values(media?.examples ?? {}).map((e) => e.value)
          ) as Array<{ error?: { code: string; type: string }; code?: number; data?: { code: string } }>;
          for (const code of listed.split(', ')) {
            assert.ok(code in ERROR_CATALOGUE, `${code} is in src/errors.ts`);
            const entry = ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE];
            const example = examples.find((e) => (batchVendor ? e.data?.code : e.error?.code) === code);
            assert.ok(example, `${method} ${path} ${status} has an example for ${code}`);
            if (batchVendor) assert.equal(example.code, Number(status), `${method} ${path} ${code}`);
            else {
              assert.equal(entry.status, Number(status), `${method} ${path} ${code}`);
              assert.equal(example.error?.type, entry.type);
            }
            codes.add(code);
          }
        }
        for (const code of ['unauthorized', 'rate_limited', 'internal_error', 'service_unavailable'])
          assert.ok(codes.has(code), `${method} ${path} lists ${code}`);
        // Fastify reads a body on every method but GET and HEAD, so each of them can meet a bad one.
        if (method !== 'get') assert.ok(codes.has('invalid_json'), `${method} ${path} lists invalid_json`);
        checked++;
      }
    }
    assert.ok(checked >= 45, `checked ${checked} operations`);
    const base = '/v1/orgs/{org_id}/workspaces/{workspace_id}/deployments/{deployment_id}/cohorts';
    const get = document.paths[`${base}/{cohort_id}`]?.get as unknown as {
      parameters: Array<{ name: string; example?: string; schema: { examples?: string[] } }>;
    };
    assert.deepEqual(
      get.parameters.map((p) => [p.name, p.example ?? p.schema.examples?.[0]]),
      [
        ['org_id', 'demo'],
        ['workspace_id', 'default'],
        ['deployment_id', 'demo'],
        ['cohort_id', 'coh-pjd0f97m39ir'],
      ],
    );
  });

  it('every catalogue code has a 4xx or 5xx status', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE))
      assert.ok(entry.status >= 400 && entry.status < 600, code);
  });
});
