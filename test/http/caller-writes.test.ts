import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { SEED_CONFIG, uploadCohort, waitForCohort } from '../helpers/cohorts.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

const DEPLOYMENT = '/v1/orgs/acme/workspaces/main/deployments/inbound';
const HEADER = 'mobile,name,balance,payment_due,preferred_language';

interface Caller {
  found: boolean;
  phone_number: string;
  cohort_id?: string;
  cohort_name?: string;
  app_variables?: Record<string, string>;
  app_overrides?: Record<string, string>;
}

for (const backend of await backends()) {
  describe(`single callers without a file on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;

    before(async () => {
      t = await createTestApp(backend);
      acme = await seedTenant(t, 'acme');
      await seedTenant(t, 'globex');
      base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    });
    after(async () => {
      await t?.close();
    });

    async function upload(name: string, rows: string[]): Promise<string> {
      const response = await uploadCohort(base, `${DEPLOYMENT}/cohorts/upload`, acme.apiKey, {
        name,
        csv: `${HEADER}\n${rows.join('\n')}\n`,
        config: SEED_CONFIG,
      });
      const body = (await response.json()) as { cohort_id: string };
      assert.equal(response.status, 200, JSON.stringify(body));
      const done = await waitForCohort(t, `${DEPLOYMENT}/cohorts/${body.cohort_id}`, acme.apiKey);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      return body.cohort_id;
    }
    const lookup = async (phone: string) =>
      (
        await t.call('GET', `${DEPLOYMENT}/callers/${encodeURIComponent(phone)}`, { key: acme.apiKey })
      ).json() as Caller;
    const put = (phone: string, body: unknown, key = acme.apiKey) =>
      t.call('PUT', `${DEPLOYMENT}/callers/${encodeURIComponent(phone)}`, { key, body });
    const cohort = async (id: string) =>
      (await t.call('GET', `${DEPLOYMENT}/cohorts/${id}`, { key: acme.apiKey })).json() as {
        result: { valid_records: number };
        serving_phones: number;
      };

    it('a PUT is live at once and wins over every earlier cohort; a later upload wins over it', async () => {
      const first = await upload('Before', [
        '9876500001,Asha,10,01/01/2026,Hindi',
        '9876500002,Ravi,20,01/01/2026,Hindi',
      ]);
      assert.equal((await lookup('+919876500001')).cohort_id, first);
      const answer = await put('09876500001', {
        app_variables: { customer_name: 'Asha Verma', outstanding_amount: 99 },
        app_overrides: { initial_language_name: 'Tamil' },
      });
      assert.equal(answer.statusCode, 200, answer.body);
      const stored = answer.json() as Caller;
      assert.equal(stored.phone_number, '+919876500001');
      assert.equal(stored.cohort_name, 'Single caller');
      const now = await lookup('+919876500001');
      assert.equal(now.cohort_id, stored.cohort_id);
      assert.deepEqual(now.app_variables, { customer_name: 'Asha Verma', outstanding_amount: '99' });
      assert.deepEqual(now.app_overrides, { initial_language_name: 'Tamil' });
      // The other caller of the earlier cohort is untouched.
      assert.equal((await lookup('+919876500002')).cohort_id, first);
      const later = await upload('After', ['9876500001,Asha Later,1,01/01/2026,Hindi']);
      assert.equal((await lookup('+919876500001')).cohort_id, later);
    });

    it('refuses what a row of a file would be refused for, and stores nothing', async () => {
      const before = await lookup('+919876500009');
      for (const [body, code] of [
        [{ app_variables: { customer_name: 'A', shoe_size: 9 } }, 'unknown_app_variable'],
        [{ app_variables: { outstanding_amount: 5 } }, 'required_variable_not_mapped'],
        [{ app_variables: { customer_name: '' } }, 'caller_rejected'],
      ] as const) {
        const answer = await put('9876500009', body);
        assert.equal(answer.statusCode, 422, answer.body);
        assert.equal((answer.json() as { error: { code: string } }).error.code, code, JSON.stringify(body));
      }
      const badPhone = await put('12', { app_variables: { customer_name: 'A' } });
      assert.equal(badPhone.statusCode, 422, badPhone.body);
      assert.equal(
        (badPhone.json() as { error: { code: string; data: { details: { code: string } } } }).error.code,
        'caller_rejected',
      );
      assert.deepEqual(await lookup('+919876500009'), before);
    });

    it('a DELETE removes the number from every cohort at once, counting one valid record less in each', async () => {
      const one = await upload('Holds it', ['9876500020,A,1,01/01/2026,Hindi', '9876500021,B,1,01/01/2026,Hindi']);
      const two = await upload('Holds it too', ['9876500020,C,1,01/01/2026,Hindi']);
      assert.equal((await put('+919876500020', { app_variables: { customer_name: 'D' } })).statusCode, 200);
      const single = (await lookup('+919876500020')).cohort_id!;
      const removed = await t.call('DELETE', `${DEPLOYMENT}/callers/9876500020`, { key: acme.apiKey });
      assert.equal(removed.statusCode, 200, removed.body);
      assert.deepEqual(removed.json(), {
        phone_number: '+919876500020',
        deleted: true,
        cohort_ids: [one, two, single],
      });
      assert.equal((await lookup('+919876500020')).found, false);
      assert.equal((await lookup('+919876500021')).cohort_id, one);
      assert.equal((await cohort(one)).result.valid_records, 1);
      assert.equal((await cohort(one)).serving_phones, 1);
      assert.equal((await cohort(two)).result.valid_records, 0);
      const again = await t.call('DELETE', `${DEPLOYMENT}/callers/%2B919876500020`, { key: acme.apiKey });
      assert.deepEqual(again.json(), { phone_number: '+919876500020', deleted: false, cohort_ids: [] });
    });

    it("keeps one org's callers from another org's keys", async () => {
      const other = await seedTenant(t, 'initech');
      assert.equal((await put('9876500030', { app_variables: { customer_name: 'X' } }, other.apiKey)).statusCode, 404);
      const removed = await t.call('DELETE', `${DEPLOYMENT}/callers/9876500001`, { key: other.apiKey });
      assert.equal(removed.statusCode, 404, removed.body);
    });
  });
}
