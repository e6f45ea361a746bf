import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { createTestApp, seedTenant, TEST_MASTER_KEY, type SeededTenant, type TestApp } from '../helpers/test-app.js';
import {
  ADD_CALLS_PARTIAL_RESPONSE,
  ADD_CALLS_REQUEST,
  ADD_CALLS_RESPONSE,
  CREATE_BATCH_REQUEST,
  CREATE_BATCH_RESPONSE,
  USER_BATCHES_RESPONSE,
} from './fixtures/weya-batch-api.js';
import { assertSameShape } from './helpers/same-shape.js';

for (const backend of await backends()) {
  describe(`the batch vendor's JSON endpoints, as documented, on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let tenant: SeededTenant;
    let base: string;
    let numberId: string;
    before(async () => {
      t = await createTestApp(backend);
      tenant = await seedTenant(t, 'acme');
      // An agent with the variables of the vendor's examples, and a US calling number for it.
      const ws = '/v1/orgs/acme/workspaces/main';
      const agent = await t.call('POST', `${ws}/agents`, {
        body: {
          agent_id: 'campaigns',
          name: 'Campaigns',
          variables: [{ name: 'name', required: true }, { name: 'account_id' }, { name: 'priority' }],
          languages: ['English'],
        },
      });
      assert.equal(agent.statusCode, 201, agent.body);
      const number = await t.call('POST', `${ws}/phone-numbers`, {
        body: { phone_number: '+12125550100', agent_id: 'campaigns' },
      });
      numberId = (number.json() as { _id: string })._id;
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await t?.close();
    });

    /** A request as a vendor client sends it: JSON over HTTP, the key as a Bearer token. */
    const send = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${tenant.apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const createBatch = async () => {
      const created = await send('POST', '/api/call/createBatch', {
        ...CREATE_BATCH_REQUEST,
        callingNumbers: [numberId],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return created;
    };

    it('createBatch: 201 and the documented envelope, data the batch id', async () => {
      const created = await createBatch();
      assertSameShape(created.body, CREATE_BATCH_RESPONSE, 'createBatch');
      assert.equal(created.body.status, true);
      assert.equal(created.body.code, 201);
      assert.equal(created.body.errorMessage, '');
      assert.match(String(created.body.data), /^[0-9a-f]{24}$/);
    });

    it('addCallsToBatch: 200 and the documented shape when every call was added', async () => {
      const batchId = String((await createBatch()).body.data);
      const added = await send('POST', '/api/call/addCallsToBatch', { ...ADD_CALLS_REQUEST, batchId });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      assertSameShape(added.body, ADD_CALLS_RESPONSE, 'addCallsToBatch');
      assert.equal(added.body.status, true);
      assert.equal(added.body.code, 200);
      assert.equal((added.body.data as { added: number }).added, ADD_CALLS_REQUEST.callData.length);
    });

    it('addCallsToBatch: 207, status false and failedChunks when a chunk of 1000 failed', async () => {
      const batchId = String((await createBatch()).body.data);
      const [example] = ADD_CALLS_REQUEST.callData;
      const callData = Array.from({ length: 1001 }, (_, i) => ({
        ...example,
        phoneNumber: `1212${String(5560000 + i)}`,
      }));
      callData[1000] = { ...example, phoneNumber: 'not a phone' };
      const partial = await send('POST', '/api/call/addCallsToBatch', { batchId, callData });
      assert.equal(partial.status, 207, JSON.stringify(partial.body).slice(0, 500));
      assertSameShape(partial.body, ADD_CALLS_PARTIAL_RESPONSE, 'addCallsToBatch (207)');
      assert.equal(partial.body.status, false);
      assert.equal(partial.body.code, 207);
      const data = partial.body.data as { added: number; failedChunks: Array<{ chunkNum: number }> };
      assert.equal(data.added, 1000);
      assert.deepEqual(
        data.failedChunks.map((f) => f.chunkNum),
        [2],
      );
    });

    it("GET /api/call/batches/{userId}: the user's batches in the documented shape", async () => {
      const batchId = String((await createBatch()).body.data);
      await send('POST', '/api/call/addCallsToBatch', { ...ADD_CALLS_REQUEST, batchId });
      const list = await send('GET', `/api/call/batches/${tenant.userId}`);
      assert.equal(list.status, 200, JSON.stringify(list.body));
      assertSameShape(list.body, USER_BATCHES_RESPONSE, 'batches list');
      const data = list.body.data as {
        batches: Array<{ _id: string; totalCalls: number; queue_status: string }>;
        pagination: { page: number; limit: number };
      };
      assert.equal(data.batches[0]?._id, batchId, 'newest first');
      assert.equal(data.batches[0]?.totalCalls, 2);
      assert.equal(data.batches[0]?.queue_status, 'active');
      assert.deepEqual([data.pagination.page, data.pagination.limit], [1, 10]);
    });

    it('accepts the key as x-api-key as well as Bearer', async () => {
      const response = await fetch(`${base}/api/call/batches/${tenant.userId}`, {
        headers: { 'x-api-key': tenant.apiKey },
      });
      assert.equal(response.status, 200);
      const master = await fetch(`${base}/api/call/batches/${tenant.userId}`, {
        headers: { authorization: `Bearer ${TEST_MASTER_KEY}` },
      });
      assert.equal(master.status, 200);
    });
  });
}
