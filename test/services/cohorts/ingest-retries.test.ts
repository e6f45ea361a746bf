import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../../helpers/backends.js';
import { SEED_CONFIG, uploadCohort, waitForCohort, type CohortBody } from '../../helpers/cohorts.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../../helpers/test-app.js';

for (const backend of await backends({ scaleOut: true })) {
  describe(`cohort retries on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    before(async () => {
      t = await createTestApp(backend, {
        ROSTER_JOB_MAX_ATTEMPTS: '2',
        ROSTER_JOB_BACKOFF_MS: '0',
        ROSTER_JOB_POLL_MS: '20',
      });
      acme = await seedTenant(t, 'acme');
    });
    after(async () => {
      await t?.close();
    });

    it('ends failed with processing_failed, never stuck, when every attempt fails', async () => {
      const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
      const cohorts = '/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts';
      await t.jobs.stop();
      const response = await uploadCohort(base, `${cohorts}/upload`, acme.apiKey, {
        name: 'Lost file',
        csv: 'mobile,name,balance,payment_due,preferred_language\n9811111111,A,1,x,Hindi\n',
        config: SEED_CONFIG,
      });
      const accepted = (await response.json()) as CohortBody;
      assert.equal(response.status, 200);
      // The stored file disappears (a disk or bucket fault): each attempt fails for real.
      await t.blobs.deletePrefix(`cohorts/${accepted.cohort_id}/`);
      await t.jobs.start();
      const done = await waitForCohort(t, `${cohorts}/${accepted.cohort_id}`, acme.apiKey);
      assert.equal(done.status, 'failed');
      assert.equal(done.error?.code, 'processing_failed');
      assert.match(done.error?.message ?? '', /failed 2 times/);
      assert.equal(done.result, null);
    });
  });
}
