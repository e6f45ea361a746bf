import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { uploadBatch, vendorFields } from '../helpers/batches.js';
import { batchVendorError } from '../helpers/error-envelopes.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

// Every call of an upload shares one timestamp; the file's order must survive every sort's ties.
const CSV =
  'phoneNumber,customer_name,priority,tier\n' +
  '2015550105,Emily Davis,high,b\n' +
  '2015550101,Noah Kim,low,a\n' +
  '2015550104,Ava Patel,high,\n' +
  '2015550102,Emily Davis,low,c\n' +
  '2015550103,Zoe "Q" Li,high,a\n';

interface Details {
  status: boolean;
  data: { total: number; data: Array<Record<string, string>> };
}

for (const backend of await backends()) {
  describe(`batch details filters and sorts on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let batchId: string;
    const details = async (query: Record<string, string>) => {
      const response = await t.call('GET', `/api/call/batch-details/${batchId}?${new URLSearchParams(query)}`, {
        key: acme.apiKey,
      });
      assert.equal(response.statusCode, 200, response.body);
      return response.json() as Details;
    };
    const phones = (answer: Details) => answer.data.data.map((call) => call.phoneNumber!.slice(-3));

    before(async () => {
      t = await createTestApp(backend, {}, { now: () => new Date('2026-12-07T15:00:00Z') });
      acme = await seedTenant(t, 'acme');
      const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
      const upload = await uploadBatch(
        base,
        acme.apiKey,
        { name: 'c.csv', content: CSV },
        vendorFields(acme.userId, acme.phoneNumberId, { timezone: 'America/New_York' }),
      );
      assert.equal(upload.status, 200, JSON.stringify(upload.body));
      batchId = (upload.body.batch as { _id: string })._id;
    });
    after(async () => {
      await t?.close();
    });

    it('lists calls with one shared timestamp in file order, ascending and descending', async () => {
      assert.deepEqual(phones(await details({})), ['105', '101', '104', '102', '103']);
      assert.deepEqual(phones(await details({ sortBy: 'createdAt', sortOrder: 'desc' })), [
        '105',
        '101',
        '104',
        '102',
        '103',
      ]);
      assert.deepEqual(phones(await details({ limit: '2', page: '2' })), ['104', '102']);
    });

    it('filters on a variable by exact value, and on several fields at once', async () => {
      const emily = await details({ filter: JSON.stringify({ customer_name: 'Emily Davis' }) });
      assert.equal(emily.data.total, 2);
      assert.deepEqual(phones(emily), ['105', '102']);
      assert.equal((await details({ filter: '{"customer_name":"emily davis"}' })).data.total, 0, 'case counts');
      assert.equal((await details({ filter: '{"customer_name":"Emily"}' })).data.total, 0, 'no substring match');
      const both = await details({ filter: JSON.stringify({ customer_name: 'Emily Davis', priority: 'low' }) });
      assert.deepEqual(phones(both), ['102']);
      assert.deepEqual(phones(await details({ filter: '{"customer_name":"Zoe \\"Q\\" Li"}' })), ['103']);
      assert.equal((await details({ filter: '{"no such column":"x"}' })).data.total, 0);
    });

    it('filters on the call fields: callStatus, phoneNumber with or without +, attempts, _id', async () => {
      assert.equal((await details({ filter: '{"callStatus":"pending"}' })).data.total, 5);
      assert.equal((await details({ filter: '{"callStatus":"completed"}' })).data.total, 0);
      assert.deepEqual(phones(await details({ filter: '{"phoneNumber":"12015550104"}' })), ['104']);
      assert.deepEqual(phones(await details({ filter: '{"phoneNumber":"+12015550104"}' })), ['104']);
      assert.equal((await details({ filter: '{"attempts":0}' })).data.total, 5);
      const first = (await details({})).data.data[0]!;
      assert.deepEqual(phones(await details({ filter: JSON.stringify({ _id: first._id }) })), ['105']);
    });

    it('sorts by a variable as text, ties in file order and calls without it last, either way', async () => {
      assert.deepEqual(phones(await details({ sortBy: 'priority' })), ['105', '104', '103', '101', '102']);
      assert.deepEqual(phones(await details({ sortBy: 'priority', sortOrder: 'desc' })), [
        '101',
        '102',
        '105',
        '104',
        '103',
      ]);
      // Ava's tier is empty (stored as ""), which sorts first; a variable no call has leaves file order.
      assert.deepEqual(phones(await details({ sortBy: 'tier' })), ['104', '101', '103', '105', '102']);
      assert.deepEqual(phones(await details({ sortBy: 'missing' })), ['105', '101', '104', '102', '103']);
      assert.deepEqual(phones(await details({ sortBy: 'phoneNumber', sortOrder: 'desc' })), [
        '105',
        '104',
        '103',
        '102',
        '101',
      ]);
    });

    it('answers 400 for a malformed id, filter or query parameter, and 404 for an unknown well-formed id', async () => {
      const cases: Array<[string, string, string]> = [
        ['not-a-batch-id', '', 'invalid_batch_id'],
        [batchId, 'filter=%7Bnot%20json', 'invalid_filter'],
        [batchId, `filter=${encodeURIComponent('["callStatus"]')}`, 'invalid_filter'],
        [batchId, `filter=${encodeURIComponent('{"callStatus":{"$ne":"x"}}')}`, 'invalid_filter'],
        [batchId, `filter=${encodeURIComponent('{"phoneLogs":"x"}')}`, 'invalid_filter'],
        [batchId, `filter=${encodeURIComponent('{"attempts":"two"}')}`, 'invalid_filter'],
        [batchId, 'page=0', 'invalid_query'],
        [batchId, 'limit=0', 'invalid_query'],
        [batchId, 'limit=1001', 'invalid_query'],
        [batchId, 'sortOrder=up', 'invalid_query'],
        [batchId, 'sortBy=phoneLogs', 'invalid_query'],
        [batchId, 'colour=red', 'invalid_query'],
      ];
      for (const [id, query, code] of cases) {
        const response = await t.call('GET', `/api/call/batch-details/${id}?${query}`, { key: acme.apiKey });
        assert.equal(response.statusCode, 400, `${id}?${query}: ${response.body}`);
        assert.equal(batchVendorError(response.json(), 400).code, code, `${id}?${query}`);
      }
      const unknown = await t.call('GET', `/api/call/batch-details/${'0'.repeat(24)}`, { key: acme.apiKey });
      assert.equal(unknown.statusCode, 404);
      assert.equal((await details({ limit: '1000' })).data.total, 5, 'limit goes up to 1000');
    });

    it('puts calls without the sorted variable last in either direction', async () => {
      const added = await t.call('POST', '/api/call/addCallsToBatch', {
        key: acme.apiKey,
        body: { batchId, callData: [{ phoneNumber: '2015550100', customer_name: 'No Priority' }] },
      });
      assert.equal(added.statusCode, 200, added.body);
      assert.deepEqual(phones(await details({ sortBy: 'priority' })), ['105', '104', '103', '101', '102', '100']);
      assert.deepEqual(phones(await details({ sortBy: 'priority', sortOrder: 'desc' })), [
        '101',
        '102',
        '105',
        '104',
        '103',
        '100',
      ]);
    });

    it('lists the calls of one addCallsToBatch request in the request’s order, whichever sortOrder', async () => {
      const callData = ['2015550109', '2015550107', '2015550108'].map((phoneNumber) => ({
        phoneNumber,
        customer_name: 'Request Order',
      }));
      const added = await t.call('POST', '/api/call/addCallsToBatch', {
        key: acme.apiKey,
        body: { batchId, callData },
      });
      assert.equal(added.statusCode, 200, added.body);
      const filter = JSON.stringify({ customer_name: 'Request Order' });
      for (const sortOrder of ['asc', 'desc'])
        assert.deepEqual(phones(await details({ filter, sortBy: 'createdAt', sortOrder })), ['109', '107', '108']);
    });
  });
}
