import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { SEED_CONFIG, uploadCohort, waitForCohort, type CohortBody } from '../helpers/cohorts.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

const HEADER = 'mobile,name,balance,payment_due,preferred_language';

for (const backend of await backends({ scaleOut: true })) {
  describe(`cohort limits on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;
    const cohorts = '/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts';
    before(async () => {
      t = await createTestApp(backend, {
        ROSTER_MAX_COLUMNS: '6',
        ROSTER_MAX_ROWS: '3',
        ROSTER_MAX_FIELD_LENGTH: '20',
      });
      acme = await seedTenant(t, 'acme');
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await t?.close();
    });

    const upload = (csv: string) =>
      uploadCohort(base, `${cohorts}/upload`, acme.apiKey, { name: 'Limits', csv, config: SEED_CONFIG });

    it('refuses a header with more columns than ROSTER_MAX_COLUMNS at once', async () => {
      const response = await upload(`${HEADER},a,b\n9811111111,x,1,2,3,4,5\n`);
      assert.equal(response.status, 422);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'too_many_columns');
    });

    it('fails the cohort with too_many_rows past ROSTER_MAX_ROWS, publishing nothing', async () => {
      const rows = ['9811111111', '9811111112', '9811111113', '9811111114'].map((p) => `${p},x,1,2,Hindi`).join('\n');
      const response = await upload(`${HEADER}\n${rows}\n`);
      const done = await waitForCohort(
        t,
        `${cohorts}/${((await response.json()) as CohortBody).cohort_id}`,
        acme.apiKey,
      );
      assert.equal(done.status, 'failed');
      assert.equal(done.error?.code, 'too_many_rows');
      const caller = (
        await t.call('GET', '/v1/orgs/acme/workspaces/main/deployments/inbound/callers/9811111111', {
          key: acme.apiKey,
        })
      ).json() as { found: boolean };
      assert.equal(caller.found, false);
    });

    it('rejects a row whose field is longer than ROSTER_MAX_FIELD_LENGTH', async () => {
      const response = await upload(`${HEADER}\n9811111111,${'x'.repeat(21)},1,2,Hindi\n9811111112,ok,1,2,Hindi\n`);
      const done = await waitForCohort(
        t,
        `${cohorts}/${((await response.json()) as CohortBody).cohort_id}`,
        acme.apiKey,
      );
      assert.deepEqual(done.result, {
        total_records: 2,
        valid_records: 1,
        rejected_records: 1,
        rejections_by_reason: [{ code: 'field_too_long', count: 1, example_row: 2 }],
      });
      const rejected = await t.call('GET', `${cohorts}/${done.cohort_id}/files?file_type=rejected_records`, {
        key: acme.apiKey,
      });
      assert.match(rejected.body, /column 'name' has 21 characters; the limit is 20/);
    });
  });
}
