import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { uploadBatch, vendorFields } from '../helpers/batches.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';
import { DOCUMENTED_BATCH_STATUSES, DOCUMENTED_QUERY, DOCUMENTED_RESPONSE } from './fixtures/weya-batch-details.js';
import { assertSameShape } from './helpers/same-shape.js';

// The example's call carries the variables name, account_id and priority.
const CSV =
  'phoneNumber,name,account_id,priority\n' +
  '12125551234,Emily Davis,ACC-5678,high\n' +
  '12125551235,Noah Kim,ACC-5679,low\n' +
  '12125551236,Ava Patel,ACC-5680,high\n';

for (const backend of await backends()) {
  describe(`batch details against the vendor's documented example on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;
    let batchId: string;
    // Monday 2026-12-07 10:00 in New York: inside the example's window.
    const clock = new Date('2026-12-07T15:00:00Z');
    const get = (path: string, query: Record<string, string>) =>
      fetch(`${base}${path}?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${acme.apiKey}` } });

    before(async () => {
      t = await createTestApp(backend, {}, { now: () => clock });
      acme = await seedTenant(t, 'acme');
      const ws = '/v1/orgs/acme/workspaces/main';
      await t.call('POST', `${ws}/agents`, {
        body: {
          agent_id: 'campaign',
          name: 'Campaign',
          variables: [{ name: 'name', required: true }, { name: 'account_id' }, { name: 'priority' }],
          languages: ['English'],
        },
      });
      const number = await t.call('POST', `${ws}/phone-numbers`, {
        body: { phone_number: '+12125550100', agent_id: 'campaign' },
      });
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
      const upload = await uploadBatch(
        base,
        acme.apiKey,
        { name: 'contacts.csv', content: CSV },
        vendorFields(acme.userId, (number.json() as { _id: string })._id),
      );
      assert.equal(upload.status, 200, JSON.stringify(upload.body));
      batchId = (upload.body.batch as { _id: string })._id;
      // One call answered, as in the example: its phoneLogs hold one completed attempt.
      const leased = await t.call('POST', '/api/call/dialer/lease', {
        key: acme.apiKey,
        body: { max: 1, lease_seconds: 300 },
      });
      const [call] = (leased.json() as { calls: Array<{ callId: string; leaseId: string }> }).calls;
      const report = await t.call('POST', '/api/call/dialer/report', {
        key: acme.apiKey,
        body: {
          callId: call!.callId,
          leaseId: call!.leaseId,
          callStatus: 'completed',
          callDuration: 120,
          recordingUrl: 'https://example.com/recording.mp3',
          transcript: 'Call transcript here...',
        },
      });
      assert.equal(report.statusCode, 200, report.body);
    });
    after(async () => {
      await t?.close();
    });

    it('answers the documented request with 200 and the documented shape, key for key', async () => {
      const response = await get(`/api/call/batch-details/${batchId}`, DOCUMENTED_QUERY);
      const body = (await response.json()) as typeof DOCUMENTED_RESPONSE;
      assert.equal(response.status, 200, JSON.stringify(body));
      assertSameShape(body, DOCUMENTED_RESPONSE, 'GET /api/call/batch-details/{id}');
      assert.equal(body.status, true);
      assert.equal(body.code, 200);
      assert.equal(body.errorMessage, '');
      assert.ok(DOCUMENTED_BATCH_STATUSES.includes(body.data.batchStatus), body.data.batchStatus);
      assert.equal(body.data.batchStatus, 'active');
      assert.equal(body.data.total, 1, 'the filter keeps the answered call only');
      const [call] = body.data.data;
      assert.equal(call!.phoneNumber, '12125551234');
      assert.equal(call!.name, 'Emily Davis');
      assert.deepEqual(
        call!.phoneLogs.map((log) => [log.callStatus, log.callDuration, log.recordingUrl, log.transcript]),
        [['completed', 120, 'https://example.com/recording.mp3', 'Call transcript here...']],
      );
    });

    it('answers every call of the batch in the same shape without a filter', async () => {
      const response = await get(`/api/call/batch-details/${batchId}`, { page: '1', limit: '10' });
      const body = (await response.json()) as { data: { total: number; totalPages: number; data: unknown[] } };
      assert.equal(response.status, 200);
      assert.equal(body.data.total, 3);
      assert.equal(body.data.totalPages, 1);
      // Unanswered calls have no attempts yet: the shape holds with an empty phoneLogs.
      assertSameShape(body, { ...DOCUMENTED_RESPONSE, data: { ...DOCUMENTED_RESPONSE.data, data: [] } }, 'page');
      for (const call of body.data.data)
        assertSameShape(
          { ...(call as object), phoneLogs: [] },
          { ...DOCUMENTED_RESPONSE.data.data[0], phoneLogs: [] },
          'call',
        );
    });
  });
}
