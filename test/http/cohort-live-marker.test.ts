import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { SEED_CONFIG, uploadCohort, waitForCohort, type CohortBody } from '../helpers/cohorts.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

const HEADER = 'mobile,name,balance,payment_due,preferred_language';
const csvOf = (phones: string[]) => `${HEADER}\n${phones.map((p) => `${p},N,1,x,Hindi`).join('\n')}\n`;

interface LiveView extends CohortBody {
  serving_phones: number;
  is_live: boolean;
}

for (const backend of await backends()) {
  describe(`the cohort live marker on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;
    const v1 = '/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts';
    const vendor = '/api/scheduling/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts';

    async function upload(name: string, phones: string[]): Promise<string> {
      const response = await uploadCohort(base, `${v1}/upload`, acme.apiKey, {
        name,
        csv: csvOf(phones),
        config: SEED_CONFIG,
      });
      const body = (await response.json()) as CohortBody;
      assert.equal(response.status, 200, JSON.stringify(body));
      const done = await waitForCohort(t, `${v1}/${body.cohort_id}`, acme.apiKey);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      return body.cohort_id;
    }
    const get = async (id: string) => (await t.call('GET', `${v1}/${id}`, { key: acme.apiKey })).json() as LiveView;
    async function listed(prefix = v1): Promise<Map<string, LiveView>> {
      const response = await t.call('GET', `${prefix}?limit=100`, { key: acme.apiKey });
      assert.equal(response.statusCode, 200, response.body);
      return new Map((response.json() as { items: LiveView[] }).items.map((c) => [c.cohort_id, c]));
    }
    const lookupCohort = async (phone: string) =>
      (
        (
          await t.call(
            'GET',
            `/v1/orgs/acme/workspaces/main/deployments/inbound/callers/${encodeURIComponent(phone)}`,
            {
              key: acme.apiKey,
            },
          )
        ).json() as { cohort_id?: string }
      ).cohort_id;

    before(async () => {
      t = await createTestApp(backend);
      acme = await seedTenant(t, 'acme');
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await t?.close();
    });

    it('counts as serving only the phones no later completed cohort holds, as lookups answer, and frees them on delete', async () => {
      const a = await upload('A', ['9800000001', '9800000002', '9800000003', '9800000004']);
      assert.deepEqual([(await get(a)).serving_phones, (await get(a)).is_live], [4, true]);
      const b = await upload('B', ['9800000003', '9800000004', '9800000005']);

      for (const prefix of [v1, vendor]) {
        const list = await listed(prefix);
        assert.deepEqual([list.get(a)?.serving_phones, list.get(a)?.is_live], [2, true], prefix);
        assert.deepEqual([list.get(b)?.serving_phones, list.get(b)?.is_live], [3, true], prefix);
      }
      assert.equal((await get(a)).serving_phones, 2);
      assert.equal(await lookupCohort('+919800000001'), a);
      assert.equal(await lookupCohort('+919800000003'), b);

      // A cohort whose every phone a later one holds is not live.
      const c = await upload('C', ['9800000001', '9800000002']);
      assert.deepEqual([(await get(a)).serving_phones, (await get(a)).is_live], [0, false]);
      assert.equal((await get(c)).serving_phones, 2);

      for (const id of [c, b]) {
        const deleted = await t.call('DELETE', `${v1}/${id}`, { key: acme.apiKey });
        assert.equal(deleted.statusCode, 200, deleted.body);
      }
      assert.deepEqual([(await get(a)).serving_phones, (await get(a)).is_live], [4, true]);
      assert.equal(await lookupCohort('+919800000003'), a);
      await t.call('DELETE', `${v1}/${a}`, { key: acme.apiKey });
    });

    it('never marks a processing or failed cohort live, and does not let one shadow an older completed cohort', async () => {
      const a = await upload('Older', ['9811000001', '9811000002']);
      const d = await upload('Newer', ['9811000002', '9811000003']);
      assert.equal((await get(a)).serving_phones, 1);
      const db = t.backing.storage.db;
      for (const status of ['processing', 'failed'] as const) {
        // Its contacts are still in the table, as after a crash or a failure not yet cleaned up.
        await db.updateTable('cohorts').set({ status }).where('cohort_id', '=', d).execute();
        const newer = (await listed()).get(d);
        assert.deepEqual([newer?.status, newer?.serving_phones, newer?.is_live], [status, 0, false]);
        assert.deepEqual([(await get(d)).serving_phones, (await get(d)).is_live], [0, false]);
        assert.deepEqual([(await get(a)).serving_phones, (await get(a)).is_live], [2, true]);
        assert.equal(await lookupCohort('+919811000002'), a);
      }
    });
  });
}
