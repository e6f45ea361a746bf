import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { SEED_CONFIG, uploadCohort, waitForCohort } from '../helpers/cohorts.js';
import { servedAcme } from '../helpers/test-app.js';

// A national caller id is read with the deployment's default country. The lookup remembers that
// country to answer in one statement; a deployment made again with another country must be
// answered under the new one at once, never under the remembered one.

const WS = '/v1/orgs/acme/workspaces/main';
const HEADER = 'mobile,name,balance,payment_due,preferred_language';

for (const backend of await backends()) {
  describe(`national caller ids on ${backend.name}`, { skip: backend.skip }, () => {
    const served = servedAcme(backend);
    const lookup = async (phone: string) => {
      const response = await served.t.call('GET', `${WS}/deployments/inbound/callers/${encodeURIComponent(phone)}`, {
        key: served.acme.apiKey,
      });
      assert.equal(response.statusCode, 200, response.body);
      return response.json() as { found: boolean; phone_number: string; cohort_name?: string };
    };
    const upload = async (name: string, csv: string, country: string) => {
      const config = { ...SEED_CONFIG, phone_number: { column_name: 'mobile', country_code: country } };
      const response = await uploadCohort(served.base, `${WS}/deployments/inbound/cohorts/upload`, served.acme.apiKey, {
        name,
        csv,
        config,
      });
      const body = (await response.json()) as { cohort_id: string };
      assert.equal(response.status, 200, JSON.stringify(body));
      const done = await waitForCohort(
        served.t,
        `${WS}/deployments/inbound/cohorts/${body.cohort_id}`,
        served.acme.apiKey,
      );
      assert.equal(done.status, 'completed', JSON.stringify(done));
    };

    it('answers under the current default country after the deployment is made again with another', async () => {
      await upload('India', `${HEADER}\n9802345678,Asha,10,2024-07-31,Hindi\n`, 'IN');
      // Read under IN (the seed's country), twice: the second answer comes from the remembered country.
      for (let i = 0; i < 2; i++) {
        const found = await lookup('9802345678');
        assert.deepEqual([found.found, found.phone_number, found.cohort_name], [true, '+919802345678', 'India']);
      }

      const deleted = await served.t.call('DELETE', `${WS}/deployments/inbound`);
      assert.equal(deleted.statusCode, 200, deleted.body);
      const made = await served.t.call('POST', `${WS}/deployments`, {
        body: { deployment_id: 'inbound', name: 'Inbound US', agent_id: 'collections', default_country: 'US' },
      });
      assert.equal(made.statusCode, 201, made.body);
      await upload('United States', `${HEADER}\n9802345678,Ann,10,2024-07-31,English\n`, 'US');

      // No lookup in between: the process still remembers IN, under which the same digits are +91….
      const after = await lookup('9802345678');
      assert.deepEqual([after.found, after.phone_number, after.cohort_name], [true, '+19802345678', 'United States']);
    });

    it('answers 404 for a deployment removed after its country was remembered', async () => {
      await lookup('9802345678');
      const deleted = await served.t.call('DELETE', `${WS}/deployments/inbound`);
      assert.equal(deleted.statusCode, 200, deleted.body);
      const gone = await served.t.call('GET', `${WS}/deployments/inbound/callers/9802345678`, {
        key: served.acme.apiKey,
      });
      assert.equal(gone.statusCode, 404, gone.body);
      assert.equal((gone.json() as { error: { code: string } }).error.code, 'not_found');
    });
  });
}
