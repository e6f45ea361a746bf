import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';
import { ERROR_ENVELOPE } from './fixtures/weya-batch-api.js';
import { assertSameShape } from './helpers/same-shape.js';

/**
 * The batch vendor's envelope with Roster's stable code: the documented keys and types at the top,
 * `code` the HTTP status, and `data: {code, details}`. Answers Roster's code.
 */
function assertBatchVendorError(response: { statusCode: number; body: string }, status: number, what: string): string {
  assert.equal(response.statusCode, status, `${what}: ${response.body}`);
  const { data, ...envelope } = JSON.parse(response.body) as Record<string, unknown> & {
    data: { code: string; details: unknown };
  };
  assertSameShape(envelope, ERROR_ENVELOPE, what);
  assert.equal(envelope.status, false, what);
  assert.equal(envelope.code, status, what);
  assert.ok(String(envelope.errorMessage).length > 0, `${what}: errorMessage says what went wrong`);
  assert.deepEqual(Object.keys(data).sort(), ['code', 'details'], what);
  return data.code;
}

for (const backend of await backends()) {
  describe(`errors on /api/call in the batch vendor's envelope on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    before(async () => {
      t = await createTestApp(backend);
      acme = await seedTenant(t, 'acme');
    });
    after(async () => {
      await t?.close();
    });

    it('a missing or wrong key answers 403, whichever header carries it', async () => {
      const url = '/api/call/batches';
      assert.equal(assertBatchVendorError(await t.call('GET', url, { key: null }), 403, 'no key'), 'unauthorized');
      assert.equal(
        assertBatchVendorError(await t.call('GET', url, { key: 'rk_wrong' }), 403, 'wrong x-api-key'),
        'unauthorized',
      );
      const bearer = await t.call('GET', url, { key: null, headers: { authorization: 'Bearer rk_wrong' } });
      assert.equal(assertBatchVendorError(bearer, 403, 'wrong Bearer'), 'unauthorized');
    });

    it('a body that fails validation answers 400, each failing field in data.details', async () => {
      const response = await t.call('POST', '/api/call/dialer/lease', { key: acme.apiKey, body: { max: 'ten' } });
      assert.equal(assertBatchVendorError(response, 400, 'invalid body'), 'validation_failed');
      const details = (response.json() as { data: { details: Array<{ field: string }> } }).data.details;
      assert.deepEqual(
        details.map((d) => d.field),
        ['/body/max'],
      );
      const json = await t.call('POST', '/api/call/dialer/lease', {
        key: acme.apiKey,
        body: '{"max": ',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(assertBatchVendorError(json, 400, 'broken JSON'), 'invalid_json');
    });

    it('createBatch without batchName or with no callingNumbers, and addCallsToBatch without batchId, answer 400', async () => {
      const noName = await t.call('POST', '/api/call/createBatch', {
        key: acme.apiKey,
        body: { callingNumbers: [acme.phoneNumberId] },
      });
      assert.equal(assertBatchVendorError(noName, 400, 'no batchName'), 'validation_failed');
      const noNumbers = await t.call('POST', '/api/call/createBatch', {
        key: acme.apiKey,
        body: { batchName: 'x', callingNumbers: [] },
      });
      assert.equal(assertBatchVendorError(noNumbers, 400, 'empty callingNumbers'), 'validation_failed');
      const noBatch = await t.call('POST', '/api/call/addCallsToBatch', {
        key: acme.apiKey,
        body: { callData: [{ phoneNumber: '2015550101' }] },
      });
      assert.equal(assertBatchVendorError(noBatch, 400, 'no batchId'), 'validation_failed');
      const noKey = await t.call('POST', '/api/call/createBatch', {
        key: null,
        body: { batchName: 'x', callingNumbers: [acme.phoneNumberId] },
      });
      assert.equal(assertBatchVendorError(noKey, 403, 'createBatch without a key'), 'unauthorized');
    });

    it('an unknown batch and an unknown route under /api/call answer 404', async () => {
      const batch = await t.call('GET', '/api/call/batch-details/64e5f12345abcdef12345678', { key: acme.apiKey });
      assert.equal(assertBatchVendorError(batch, 404, 'unknown batch'), 'not_found');
      const add = await t.call('POST', '/api/call/addCallsToBatch', {
        key: acme.apiKey,
        body: { batchId: '64e5f12345abcdef12345678', callData: [{ phoneNumber: '2015550101' }] },
      });
      assert.equal(assertBatchVendorError(add, 404, 'calls for an unknown batch'), 'not_found');
      const list = await t.call('GET', `/api/call/batches/${acme.userId}`, { key: acme.apiKey });
      assert.equal(assertBatchVendorError(list, 404, 'a user without batches'), 'not_found');
      const route = await t.call('GET', '/api/call/nothing-here', { key: acme.apiKey });
      assert.equal(assertBatchVendorError(route, 404, 'unknown route'), 'route_not_found');
    });

    it('routes outside /api/call keep the cohort envelope and 401', async () => {
      const response = await t.call('GET', '/v1/orgs/acme', { key: 'rk_wrong' });
      assert.equal(response.statusCode, 401);
      assert.equal((response.json() as { error: { code: string } }).error.code, 'unauthorized');
      const route = await t.call('GET', '/api/scheduling/nothing', { key: acme.apiKey });
      assert.equal((route.json() as { error: { code: string } }).error.code, 'route_not_found');
    });
  });
}

describe("the rate limit on /api/call, in the batch vendor's envelope", () => {
  let t: TestApp;
  before(async () => {
    const [sqlite] = await backends();
    t = await createTestApp(sqlite!, { ROSTER_RATE_LIMIT_MAX: '2' });
  });
  after(async () => {
    await t?.close();
  });

  it('answers 429 with Retry-After once the key has spent its budget', async () => {
    let last = await t.call('GET', '/api/call/batches?org_id=x');
    for (let i = 0; i < 3 && last.statusCode !== 429; i++) last = await t.call('GET', '/api/call/batches?org_id=x');
    assert.equal(assertBatchVendorError(last, 429, 'over the budget'), 'rate_limited');
    assert.ok(Number(last.headers['retry-after']) > 0);
  });
});
