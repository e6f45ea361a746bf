import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

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

    it('creates an empty batch and adds calls, answering 207 with each refused call', async () => {
      await t.call('POST', '/api/call/dnc', { key: acme.apiKey, body: { phoneNumbers: ['+12015550199'] } });
      const created = await t.call('POST', '/api/call/batches', {
        key: acme.apiKey,
        body: { userId: acme.userId, batchName: 'JSON batch', callingNumbers: [acme.phoneNumberId], enableDNC: true, callingHour: { start: '22:00', end: '02:00' }, allowedDays: [0, 6] },
      });
      assert.equal(created.statusCode, 201, created.body);
      const batch = (created.json() as { batch: { _id: string; totalCalls: number; callingHour: { start: string }; allowedDays: number[] } }).batch;
      assert.equal(batch.totalCalls, 0);
      assert.equal(batch.callingHour.start, '22:00');
      assert.deepEqual(batch.allowedDays, [0, 6]);
      const add = (calls: Array<Record<string, string>>) => t.call('POST', `/api/call/batches/${batch._id}/calls`, { key: acme.apiKey, body: { calls } });
      const all = await add([{ phoneNumber: '2015550101', customer_name: 'A' }, { phoneNumber: '+12015550102', customer_name: 'B', plan: 'gold' }]);
      assert.equal(all.statusCode, 200, all.body);
      assert.equal((all.json() as { created: number }).created, 2);
      const partial = await add([
        { phoneNumber: '2015550103', customer_name: 'C' },
        { phoneNumber: 'nope', customer_name: 'D' },
        { phoneNumber: '2015550101', customer_name: 'again' },
        { phoneNumber: '2015550199', customer_name: 'E' },
        { phoneNumber: '2015550104' },
        { phoneNumber: '2015550103', customer_name: 'twice' },
      ]);
      assert.equal(partial.statusCode, 207, partial.body);
      const results = (partial.json() as { results: Array<{ index: number; status: string }> }).results;
      assert.deepEqual(results.map((r) => [r.index, r.status]), [[0, 'created'], [1, 'invalid'], [2, 'duplicate'], [3, 'dnc'], [4, 'invalid'], [5, 'duplicate']]);
      const none = await add([{ phoneNumber: 'x', customer_name: 'y' }]);
      assert.equal(none.statusCode, 422);
      const over = await add(Array.from({ length: 1001 }, (_, i) => ({ phoneNumber: `20155${String(i).padStart(5, '0')}`, customer_name: 'n' })));
      assert.equal(over.statusCode, 422);
      const details = (await t.call('GET', `/api/call/batch-details/${batch._id}`, { key: acme.apiKey })).json() as { data: { total: number; data: Array<Record<string, string>> } };
      assert.equal(details.data.total, 3);
      assert.equal(details.data.data.find((c) => c.customer_name === 'B')?.plan, 'gold');
    });

    it('keeps the do-not-call list per workspace: add, list, remove', async () => {
      const added = (await t.call('POST', '/api/call/dnc', { key: acme.apiKey, body: { phoneNumbers: ['+919811111111', '09811111112', 'bad'], country: 'IN', reason: 'asked' } })).json() as {
        added: number;
        invalid: unknown[];
      };
      assert.equal(added.added, 2);
      assert.equal(added.invalid.length, 1);
      const list = (await t.call('GET', '/api/call/dnc?limit=100', { key: acme.apiKey })).json() as { items: Array<{ phoneNumber: string }>; total: number };
      assert.ok(list.items.some((i) => i.phoneNumber === '+919811111112'));
      assert.equal((await t.call('DELETE', '/api/call/dnc/%2B919811111112', { key: acme.apiKey })).statusCode, 200);
      assert.equal((await t.call('DELETE', '/api/call/dnc/%2B919811111112', { key: acme.apiKey })).statusCode, 404);
      assert.equal(((await t.call('GET', '/api/call/dnc', { key: globex.apiKey })).json() as { total: number }).total, 0, "another tenant's list is its own");
      assert.equal((await t.call('GET', '/api/call/dnc?workspace_id=main', { key: globex.apiKey })).statusCode, 200);
      assert.equal((await t.call('GET', '/api/call/dnc?workspace_id=other', { key: acme.apiKey })).statusCode, 404);
    });

    it('imports a file of do-not-call numbers', async () => {
      const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
      const form = new FormData();
      form.append('file', new Blob(['name,phoneNumber\nA,+919822222221\nB,09822222222\nC,not a phone\n']), 'dnc.csv');
      form.append('country', 'IN');
      const response = await fetch(`${base}/api/call/dnc/upload`, { method: 'POST', headers: { 'x-api-key': acme.apiKey }, body: form });
      const body = (await response.json()) as { added: number; invalid: Array<{ value: string }> };
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.equal(body.added, 2);
      assert.deepEqual(body.invalid.map((i) => i.value), ['not a phone']);
    });
  });
}
