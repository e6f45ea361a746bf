import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { batchVendorError } from '../helpers/error-envelopes.js';
import { createTestApp, seedTenant, TEST_MASTER_KEY, type SeededTenant, type TestApp } from '../helpers/test-app.js';

interface Envelope<T> {
  message: string;
  status: boolean;
  code: number;
  errorMessage: string;
  data: T;
}

interface AddedCalls {
  added: number;
  callIds: string[];
  failedChunks?: Array<{ chunkNum: number; error: string }>;
}

for (const backend of await backends({ scaleOut: true })) {
  describe(`batches over JSON and the do-not-call list on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let globex: SeededTenant;
    before(async () => {
      t = await createTestApp(backend);
      acme = await seedTenant(t, 'acme');
      globex = await seedTenant(t, 'globex');
    });
    after(async () => {
      await t?.close();
    });

    const createBatch = async (tenant: SeededTenant, body: Record<string, unknown> = {}) => {
      const created = await t.call('POST', '/api/call/createBatch', {
        key: tenant.apiKey,
        body: { batchName: 'JSON batch', callingNumbers: [tenant.phoneNumberId], ...body },
      });
      assert.equal(created.statusCode, 201, created.body);
      return (created.json() as Envelope<string>).data;
    };
    const add = (batchId: string, callData: Array<Record<string, unknown>>, key = acme.apiKey) =>
      t.call('POST', '/api/call/addCallsToBatch', { key, body: { batchId, callData } });

    it("createBatch answers 201 with the new batch's id, owned by the key's user, with the settings given", async () => {
      const created = await t.call('POST', '/api/call/createBatch', {
        key: acme.apiKey,
        body: {
          batchName: 'Night shift',
          callingNumbers: [acme.phoneNumberId],
          enableDNC: true,
          callingHour: { start: '22:00', end: '02:00' },
          allowedDays: [0, 6],
        },
      });
      assert.equal(created.statusCode, 201, created.body);
      const body = created.json() as Envelope<string>;
      assert.equal(body.status, true);
      assert.equal(body.code, 201);
      assert.equal(body.errorMessage, '');
      assert.match(body.data, /^[0-9a-f]{24}$/);
      const list = (await t.call('GET', '/api/call/batches', { key: acme.apiKey })).json() as {
        items: Array<{
          _id: string;
          userId: string;
          totalCalls: number;
          callingHour: { start: string };
          allowedDays: number[];
        }>;
      };
      const batch = list.items.find((b) => b._id === body.data);
      assert.equal(batch?.userId, acme.userId);
      assert.equal(batch?.totalCalls, 0);
      assert.equal(batch?.callingHour.start, '22:00');
      assert.deepEqual(batch?.allowedDays, [0, 6]);
    });

    it('createBatch with the master key needs userId; a field the upload form refuses is refused the same way', async () => {
      const noUser = await t.call('POST', '/api/call/createBatch', {
        key: TEST_MASTER_KEY,
        body: { batchName: 'x', callingNumbers: [acme.phoneNumberId] },
      });
      assert.equal(noUser.statusCode, 400, noUser.body);
      assert.equal(batchVendorError(noUser.json(), 400).code, 'invalid_batch_field');
      const master = await t.call('POST', '/api/call/createBatch', {
        key: TEST_MASTER_KEY,
        body: { batchName: 'x', callingNumbers: [acme.phoneNumberId], userId: acme.userId },
      });
      assert.equal(master.statusCode, 201, master.body);
      const badZone = await t.call('POST', '/api/call/createBatch', {
        key: acme.apiKey,
        body: { batchName: 'x', callingNumbers: [acme.phoneNumberId], timezone: 'Mars/Olympus' },
      });
      assert.equal(badZone.statusCode, 400, badZone.body);
      assert.equal(batchVendorError(badZone.json(), 400).code, 'invalid_batch_field');
      const foreign = await t.call('POST', '/api/call/createBatch', {
        key: globex.apiKey,
        body: { batchName: 'x', callingNumbers: [acme.phoneNumberId] },
      });
      assert.equal(foreign.statusCode, 404, foreign.body);
      assert.equal(batchVendorError(foreign.json(), 404).code, 'calling_numbers_not_found');
    });

    it('addCallsToBatch adds every call (200), skips repeats and do-not-call numbers, and answers existing ids again', async () => {
      await t.call('POST', '/api/call/dnc', { key: acme.apiKey, body: { phoneNumbers: ['+12015550199'] } });
      const batchId = await createBatch(acme, { enableDNC: true });
      const all = await add(batchId, [
        { phoneNumber: '2015550101', customer_name: 'A' },
        { phoneNumber: 12015550102, customer_name: 'B', plan: 'gold', vip: true },
      ]);
      assert.equal(all.statusCode, 200, all.body);
      const body = all.json() as Envelope<AddedCalls>;
      assert.equal(body.status, true);
      assert.equal(body.code, 200);
      assert.equal(body.data.added, 2);
      assert.equal(body.data.callIds.length, 2);
      assert.equal(body.data.failedChunks, undefined);
      const again = await add(batchId, [
        { phoneNumber: '+12015550101', customer_name: 'A' },
        { phoneNumber: '2015550103', customer_name: 'C' },
        { phoneNumber: '2015550103', customer_name: 'C twice' },
        { phoneNumber: '2015550199', customer_name: 'on the list' },
      ]);
      assert.equal(again.statusCode, 200, again.body);
      const second = again.json() as Envelope<AddedCalls>;
      assert.equal(second.data.added, 1);
      assert.equal(second.data.callIds.length, 2);
      assert.equal(second.data.callIds[0], body.data.callIds[0], 'a phone the batch has keeps its call');
      assert.match(second.message, /1 repeated in the request, 1 on the do-not-call list/);
      const details = (await t.call('GET', `/api/call/batch-details/${batchId}`, { key: acme.apiKey })).json() as {
        data: { total: number; data: Array<Record<string, string>> };
      };
      assert.equal(details.data.total, 3);
      const b = details.data.data.find((c) => c.customer_name === 'B');
      assert.equal(b?.plan, 'gold');
      assert.equal(b?.vip, 'true');
    });

    it('addCallsToBatch refuses a chunk with an invalid record whole: 207 with failedChunks, or 400 when every chunk failed', async () => {
      const batchId = await createBatch(acme);
      const callData = Array.from({ length: 1500 }, (_, i) => ({
        phoneNumber: `201${String(5550000 + i)}`,
        customer_name: `n${i}`,
      }));
      callData[1200] = { phoneNumber: 'nope', customer_name: 'bad' };
      const partial = await add(batchId, callData);
      assert.equal(partial.statusCode, 207, partial.body);
      const body = partial.json() as Envelope<AddedCalls>;
      assert.equal(body.status, false);
      assert.equal(body.code, 207);
      assert.equal(body.data.added, 1000);
      assert.equal(body.data.callIds.length, 1000);
      assert.equal(body.data.failedChunks?.length, 1);
      assert.equal(body.data.failedChunks?.[0]?.chunkNum, 2);
      assert.match(body.data.failedChunks?.[0]?.error ?? '', /callData\[1200\] phoneNumber/);
      assert.match(body.errorMessage, /chunk 2/);

      const none = await add(batchId, [{ phoneNumber: 'x', customer_name: 'y' }, { phoneNumber: '2015559999' }]);
      assert.equal(none.statusCode, 400, none.body);
      const error = batchVendorError(none.json(), 400);
      assert.equal(error.code, 'no_calls_added');
      assert.match(error.message, /callData\[0\] phoneNumber.*callData\[1\] customer_name/);
      const details = (await t.call('GET', `/api/call/batch-details/${batchId}`, { key: acme.apiKey })).json() as {
        data: { total: number };
      };
      assert.equal(details.data.total, 1000);
    });

    it('addCallsToBatch answers 400 without batchId or with empty callData, 404 for a batch of another tenant', async () => {
      const batchId = await createBatch(acme);
      const missing = await t.call('POST', '/api/call/addCallsToBatch', {
        key: acme.apiKey,
        body: { callData: [{ phoneNumber: '2015550101' }] },
      });
      assert.equal(batchVendorError(missing.json(), 400).code, 'validation_failed');
      assert.equal(missing.statusCode, 400);
      const empty = await add(batchId, []);
      assert.equal(empty.statusCode, 400);
      assert.equal(batchVendorError(empty.json(), 400).code, 'validation_failed');
      const foreign = await add(batchId, [{ phoneNumber: '2015550101', customer_name: 'A' }], globex.apiKey);
      assert.equal(foreign.statusCode, 404);
      assert.equal(batchVendorError(foreign.json(), 404).code, 'not_found');
    });

    it("lists the key's user's batches newest first with their counts, searchable by name or queue_status", async () => {
      const first = await createBatch(globex, { batchName: 'Spring leads' });
      const second = await createBatch(globex, { batchName: 'Summer leads' });
      await add(second, [{ phoneNumber: '2015550101', customer_name: 'A' }], globex.apiKey);
      assert.equal((await t.call('POST', `/api/call/batches/${first}/pause`, { key: globex.apiKey })).statusCode, 200);
      type Listed = Envelope<{
        batches: Array<{ _id: string; totalCalls: number; callsPicked: number; queue_status: string }>;
        pagination: { total: number; page: number; limit: number; totalPages: number };
      }>;
      const list = await t.call('GET', `/api/call/batches/${globex.userId}?limit=1`, { key: globex.apiKey });
      assert.equal(list.statusCode, 200, list.body);
      const body = list.json() as Listed;
      assert.deepEqual(body.data.pagination, { total: 2, page: 1, limit: 1, totalPages: 2 });
      assert.equal(body.data.batches[0]?._id, second);
      assert.equal(body.data.batches[0]?.totalCalls, 1);
      assert.equal(body.data.batches[0]?.callsPicked, 0);
      assert.equal(body.data.batches[0]?.queue_status, 'active');
      const paused = (
        await t.call('GET', `/api/call/batches/${globex.userId}?search=paused`, { key: globex.apiKey })
      ).json() as Listed;
      assert.deepEqual(
        paused.data.batches.map((b) => b._id),
        [first],
      );
      const byName = (
        await t.call('GET', `/api/call/batches/${globex.userId}?search=SPRING`, { key: globex.apiKey })
      ).json() as Listed;
      assert.deepEqual(
        byName.data.batches.map((b) => b._id),
        [first],
      );
      const nothing = await t.call('GET', `/api/call/batches/${globex.userId}?search=autumn`, { key: globex.apiKey });
      assert.equal(nothing.statusCode, 404);
      const other = await t.call('GET', `/api/call/batches/${acme.userId}`, { key: globex.apiKey });
      assert.equal(other.statusCode, 404, "another user's list is not found");
      assert.equal(batchVendorError(other.json(), 404).code, 'user_not_found');
      const malformed = await t.call('GET', '/api/call/batches/not-an-id', { key: globex.apiKey });
      assert.equal(malformed.statusCode, 400);
      assert.equal(batchVendorError(malformed.json(), 400).code, 'validation_failed');
      const master = await t.call('GET', `/api/call/batches/${globex.userId}`, { key: TEST_MASTER_KEY });
      assert.equal((master.json() as Listed).data.pagination.total, 2);
    });

    it('keeps the do-not-call list per workspace: add, list, remove', async () => {
      const added = (
        await t.call('POST', '/api/call/dnc', {
          key: acme.apiKey,
          body: { phoneNumbers: ['+919811111111', '09811111112', 'bad'], country: 'IN', reason: 'asked' },
        })
      ).json() as {
        added: number;
        invalid: unknown[];
      };
      assert.equal(added.added, 2);
      assert.equal(added.invalid.length, 1);
      const list = (await t.call('GET', '/api/call/dnc?limit=100', { key: acme.apiKey })).json() as {
        items: Array<{ phoneNumber: string }>;
        total: number;
      };
      assert.ok(list.items.some((i) => i.phoneNumber === '+919811111112'));
      assert.equal((await t.call('DELETE', '/api/call/dnc/%2B919811111112', { key: acme.apiKey })).statusCode, 200);
      assert.equal((await t.call('DELETE', '/api/call/dnc/%2B919811111112', { key: acme.apiKey })).statusCode, 404);
      assert.equal(
        ((await t.call('GET', '/api/call/dnc', { key: globex.apiKey })).json() as { total: number }).total,
        0,
        "another tenant's list is its own",
      );
      assert.equal((await t.call('GET', '/api/call/dnc?workspace_id=main', { key: globex.apiKey })).statusCode, 200);
      assert.equal((await t.call('GET', '/api/call/dnc?workspace_id=other', { key: acme.apiKey })).statusCode, 404);
    });

    it('imports a file of do-not-call numbers', async () => {
      const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
      const form = new FormData();
      form.append('file', new Blob(['name,phoneNumber\nA,+919822222221\nB,09822222222\nC,not a phone\n']), 'dnc.csv');
      form.append('country', 'IN');
      const response = await fetch(`${base}/api/call/dnc/upload`, {
        method: 'POST',
        headers: { 'x-api-key': acme.apiKey },
        body: form,
      });
      const body = (await response.json()) as { added: number; invalid: Array<{ value: string }> };
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.equal(body.added, 2);
      assert.deepEqual(
        body.invalid.map((i) => i.value),
        ['not a phone'],
      );
    });
  });
}
