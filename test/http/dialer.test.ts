import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { uploadBatch, vendorFields } from '../helpers/batches.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

interface Leased {
  callId: string;
  leaseId: string;
  phoneNumber: string;
  callerNumber: string;
  attempt: number;
  timezone: string;
  variables: Record<string, string>;
}

for (const backend of await backends({ scaleOut: true })) {
  describe(`dialer on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;
    let batchId: string;
    let indianNumberId: string;
    let clock = new Date('2026-12-07T12:00:00Z'); // Monday 07:00 in New York, 17:30 in Kolkata
    const lease = async (max = 50, leaseSeconds = 300): Promise<Leased[]> => {
      const response = await t.call('POST', '/api/call/dialer/lease', {
        key: acme.apiKey,
        body: { max, lease_seconds: leaseSeconds },
      });
      assert.equal(response.statusCode, 200, response.body);
      return (response.json() as { calls: Leased[] }).calls;
    };
    const report = (call: Leased, callStatus: string, leaseId = call.leaseId) =>
      t.call('POST', '/api/call/dialer/report', {
        key: acme.apiKey,
        body: { callId: call.callId, leaseId, callStatus, callDuration: 12, transcript: 'hello' },
      });

    before(async () => {
      t = await createTestApp(backend, {}, { now: () => clock });
      acme = await seedTenant(t, 'acme');
      const indian = await t.call('POST', '/v1/orgs/acme/workspaces/main/phone-numbers', {
        body: { phone_number: '+918000000009', agent_id: 'collections' },
      });
      indianNumberId = (indian.json() as { _id: string })._id;
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
      const rows = Array.from(
        { length: 24 },
        (_, i) => `98114${String(i).padStart(5, '0')},Person ${i},${i < 4 ? 'Asia/Kolkata' : ''}`,
      ).join('\n');
      const { status, body } = await uploadBatch(
        base,
        acme.apiKey,
        { name: 'c.csv', content: `phoneNumber,customer_name,timezone\n${rows}\n` },
        // The first calling number is Indian, so the file's national numbers are read as Indian.
        vendorFields(acme.userId, indianNumberId, {
          callingNumbers: JSON.stringify([indianNumberId, acme.phoneNumberId]),
          // One retry after the first call, an hour (3600 s) later.
          retry: '1',
          delay: '3600',
        }),
      );
      assert.equal(status, 200, JSON.stringify(body));
      batchId = (body.batch as { _id: string })._id;
    });
    after(async () => {
      await t?.close();
    });

    it('leases nothing before the window opens in either time zone', async () => {
      assert.deepEqual(await lease(), []);
    });

    it('leases only contacts inside their own local window, each to one caller under concurrency', async () => {
      clock = new Date('2026-12-07T15:00:00Z'); // 10:00 in New York, 20:30 in Kolkata
      const results = await Promise.all(Array.from({ length: 12 }, () => lease(3)));
      const calls = results.flat();
      // Concurrent leases may skip rows another one holds for a moment; drain what is left.
      for (let more = await lease(3); more.length > 0; more = await lease(3)) calls.push(...more);
      const ids = calls.map((c) => c.callId);
      assert.equal(new Set(ids).size, ids.length, 'a call was leased twice');
      assert.equal(calls.length, 20, 'every New York contact, and no Kolkata one');
      assert.ok(calls.every((c) => c.timezone === 'America/New_York' && c.attempt === 1));
      assert.equal(new Set(calls.map((c) => c.callerNumber)).size, 2, 'caller numbers rotate');
      assert.deepEqual(await lease(), [], 'leased calls are not due again while their lease holds');
      for (const call of calls.slice(2)) assert.equal((await report(call, 'completed')).statusCode, 200);
      (globalThis as { leasedForRetry?: Leased[] }).leasedForRetry = calls.slice(0, 2);
    });

    it('retries a failed attempt after the delay, inside the window, up to the retry count', async () => {
      const [failed, expired] = (globalThis as { leasedForRetry?: Leased[] }).leasedForRetry!;
      const answer = (await report(failed!, 'failed')).json() as {
        call: { callStatus: string; nextAttemptAt: string };
      };
      assert.equal(answer.call.callStatus, 'pending');
      assert.equal(answer.call.nextAttemptAt, '2026-12-07T16:00:00.000Z');
      clock = new Date('2026-12-07T15:30:00Z');
      // The other call's lease (300 s) has expired: it is due again, with its attempt counted.
      const again = await lease();
      assert.deepEqual(
        again.map((c) => c.callId),
        [expired!.callId],
      );
      assert.equal(again[0]!.attempt, 2);
      const stale = await report(expired!, 'completed');
      assert.equal(stale.statusCode, 409, 'a report under an expired lease is refused');
      clock = new Date('2026-12-07T16:01:00Z');
      const retry = await lease();
      // The re-leased call expired again on its last attempt: it ends failed instead of being dialled a third time.
      assert.deepEqual(
        retry.map((c) => c.callId),
        [failed!.callId],
      );
      const final = (await report(retry[0]!, 'no_answer')).json() as {
        call: { callStatus: string; nextAttemptAt: null };
      };
      assert.equal(final.call.callStatus, 'no_answer', 'two attempts were allowed');
      const details = (
        await t.call('GET', `/api/call/batch-details/${batchId}?search=${failed!.phoneNumber.slice(1)}`, {
          key: acme.apiKey,
        })
      ).json() as {
        data: { data: Array<{ phoneLogs: Array<{ callStatus: string; transcript: string }> }> };
      };
      assert.deepEqual(
        details.data.data[0]!.phoneLogs.map((l) => l.callStatus),
        ['failed', 'no_answer'],
      );
    });

    it('calls Kolkata contacts in Kolkata hours', async () => {
      clock = new Date('2026-12-08T04:00:00Z'); // Tuesday 09:30 in Kolkata, 23:00 Monday in New York
      const calls = await lease();
      assert.equal(calls.filter((c) => c.timezone === 'Asia/Kolkata').length, 4);
      assert.ok(calls.every((c) => c.timezone === 'Asia/Kolkata'));
      for (const call of calls) await report(call, 'completed');
    });

    it('does not dial a paused batch, resumes it, and never dials a cancelled one', async () => {
      clock = new Date('2026-12-08T15:00:00Z');
      const upload = await uploadBatch(
        base,
        acme.apiKey,
        { name: 'c.csv', content: 'phoneNumber,customer_name\n9811500001,A\n9811500002,B\n' },
        vendorFields(acme.userId, indianNumberId),
      );
      batchId = (upload.body.batch as { _id: string })._id;
      assert.equal((await t.call('POST', `/api/call/batches/${batchId}/pause`, { key: acme.apiKey })).statusCode, 200);
      assert.deepEqual(await lease(), []);
      assert.equal((await t.call('POST', `/api/call/batches/${batchId}/resume`, { key: acme.apiKey })).statusCode, 200);
      const leased = await lease(1);
      assert.equal(leased.length, 1);
      assert.equal((await t.call('POST', `/api/call/batches/${batchId}/cancel`, { key: acme.apiKey })).statusCode, 200);
      assert.deepEqual(await lease(), []);
      assert.equal((await report(leased[0]!, 'completed')).statusCode, 409, 'the cancel withdrew the lease');
      const again = await t.call('POST', `/api/call/batches/${batchId}/resume`, { key: acme.apiKey });
      assert.equal(again.statusCode, 409);
    });

    it('calls a contact once with retry=0, and moves a retry by delay seconds', async () => {
      clock = new Date('2026-12-08T15:00:00Z'); // Tuesday 10:00 in New York
      const batchOf = async (phone: string, fields: Record<string, string>) => {
        const upload = await uploadBatch(
          base,
          acme.apiKey,
          { name: 'c.csv', content: `phoneNumber,customer_name\n${phone},A\n` },
          vendorFields(acme.userId, indianNumberId, fields),
        );
        assert.equal(upload.status, 200, JSON.stringify(upload.body));
        return (upload.body.batch as { _id: string })._id;
      };
      const once = await batchOf('9811700001', { retry: '0' });
      const quick = await batchOf('9811700002', { retry: '1', delay: '90' });
      const leased = await lease();
      const call = (id: string) => leased.find((c) => (c as Leased & { batchId: string }).batchId === id)!;
      const final = (await report(call(once), 'failed')).json() as {
        call: { callStatus: string; attempts: number; nextAttemptAt: string | null };
      };
      assert.deepEqual(final.call, { ...final.call, callStatus: 'failed', attempts: 1, nextAttemptAt: null });
      const retried = (await report(call(quick), 'failed')).json() as { call: { nextAttemptAt: string } };
      assert.equal(retried.call.nextAttemptAt, '2026-12-08T15:01:30.000Z', '90 seconds after the report');
      clock = new Date('2026-12-08T15:01:30Z');
      assert.deepEqual(
        (await lease()).map((c) => c.callId),
        [call(quick).callId],
        'the retried call is due again; the retry=0 one never is',
      );
    });
  });
}
