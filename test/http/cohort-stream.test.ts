import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { waitForCohort, type CohortBody } from '../helpers/cohorts.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

for (const backend of await backends({ scaleOut: true })) {
  describe(`cohort stream on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    const cohorts = '/api/scheduling/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts';
    before(async () => {
      t = await createTestApp(backend);
      acme = await seedTenant(t, 'acme');
    });
    after(async () => {
      await t?.close();
    });

    it('ingests users sent as JSON with the same row rules as a file', async () => {
      const response = await t.call('POST', `${cohorts}/stream`, {
        key: acme.apiKey,
        body: {
          name: 'Known callers',
          users: [
            {
              user_phone_number: '9876500001',
              user_identifier: 'cust-1',
              app_variables: { customer_name: 'Asha', outstanding_amount: 1500 },
              app_overrides: { initial_language_name: 'Hindi' },
            },
            { user_phone_number: 'not a phone', app_variables: { customer_name: 'Nobody' } },
            { user_phone_number: '+919876500001', app_variables: { customer_name: 'Asha again' } },
            { user_phone_number: '9876500002', app_variables: { outstanding_amount: 10 } },
            { user_phone_number: '9876500003', app_variables: { customer_name: '=HYPERLINK("x")' } },
          ],
        },
      });
      assert.equal(response.statusCode, 200, response.body);
      const accepted = response.json() as CohortBody;
      assert.equal(accepted.status, 'processing');
      assert.equal(accepted.source_type, 'file_upload');
      const done = await waitForCohort(t, `${cohorts}/${accepted.cohort_id}`, acme.apiKey);
      assert.deepEqual(done.result, {
        total_records: 5,
        valid_records: 2,
        rejected_records: 3,
        rejections_by_reason: [
          { code: 'duplicate_phone', count: 1, example_row: 4 },
          { code: 'invalid_phone', count: 1, example_row: 3 },
          { code: 'missing_required_value', count: 1, example_row: 5 },
        ],
      });
      const caller = (
        await t.call('GET', `/v1/orgs/acme/workspaces/main/deployments/inbound/callers/9876500001`, {
          key: acme.apiKey,
        })
      ).json() as Record<string, unknown>;
      assert.equal(caller.found, true);
      assert.equal(caller.user_identifier, 'cust-1');
      assert.deepEqual(caller.app_variables, { customer_name: 'Asha', outstanding_amount: '1500' });
      assert.deepEqual(caller.app_overrides, { initial_language_name: 'Hindi' });
      const formula = (
        await t.call('GET', `/v1/orgs/acme/workspaces/main/deployments/inbound/callers/9876500003`, {
          key: acme.apiKey,
        })
      ).json() as { app_variables: Record<string, string> };
      assert.equal(formula.app_variables.customer_name, '=HYPERLINK("x")', 'values are stored as sent');
      const rejected = await t.call('GET', `${cohorts}/${accepted.cohort_id}/files?file_type=rejected_records`, {
        key: acme.apiKey,
      });
      assert.match(rejected.body, /not a phone/);
      assert.match(rejected.body, /repeats row 2/);
      assert.match(rejected.body, /customer_name\) is empty/);
    });

    it('keeps values with line breaks exactly, however kept and refused rows interleave', async () => {
      // Kept rows cross between threads with their columns joined by line breaks: a value's own
      // line breaks (escaped in JSON, raw in an identifier) must come back as sent.
      const identifier = 'line one\nline two\r\nthree\u2028four';
      const name = 'Asha\n"quoted"\r\nnext';
      const response = await t.call('POST', `${cohorts}/stream`, {
        key: acme.apiKey,
        body: {
          name: 'Line breaks',
          users: [
            { user_phone_number: 'not a phone', app_variables: { customer_name: 'x\ny' } },
            {
              user_phone_number: '9876511001',
              user_identifier: identifier,
              app_variables: { customer_name: name },
              app_overrides: { initial_language_name: 'Hindi\n' },
            },
            { user_phone_number: '9876511002', app_variables: { outstanding_amount: 1 } },
            { user_phone_number: '9876511003', user_identifier: 'a\nb', app_variables: { customer_name: 'a\n\nb' } },
          ],
        },
      });
      assert.equal(response.statusCode, 200, response.body);
      const done = await waitForCohort(t, `${cohorts}/${(response.json() as CohortBody).cohort_id}`, acme.apiKey);
      // Row 3 has no customer_name (required): refused between two kept rows.
      assert.equal(done.result?.valid_records, 2, JSON.stringify(done));
      const caller = (phone: string) =>
        t
          .call('GET', `/v1/orgs/acme/workspaces/main/deployments/inbound/callers/${phone}`, { key: acme.apiKey })
          .then((answer) => answer.json() as Record<string, unknown>);
      const first = await caller('9876511001');
      assert.equal(first.user_identifier, identifier);
      assert.deepEqual(first.app_variables, { customer_name: name });
      assert.deepEqual(first.app_overrides, { initial_language_name: 'Hindi\n' });
      const last = await caller('9876511003');
      assert.equal(last.user_identifier, 'a\nb');
      assert.deepEqual(last.app_variables, { customer_name: 'a\n\nb' });
    });

    it('refuses an empty list, more than 1000 users and unknown variables', async () => {
      const post = (body: unknown) => t.call('POST', `${cohorts}/stream`, { key: acme.apiKey, body });
      assert.equal((await post({ name: 'x', users: [] })).statusCode, 422);
      const many = Array.from({ length: 1001 }, (_, i) => ({
        user_phone_number: `98765${String(i).padStart(5, '0')}`,
        app_variables: { customer_name: 'x' },
      }));
      assert.equal((await post({ name: 'x', users: many })).statusCode, 422);
      const unknown = await post({
        name: 'x',
        users: [{ user_phone_number: '9876500009', app_variables: { customer_name: 'x', shoe_size: 9 } }],
      });
      assert.equal(unknown.statusCode, 422);
      assert.equal((unknown.json() as { error: { code: string } }).error.code, 'unknown_app_variable');
      const extra = await post({ name: 'x', users: [{ user_phone_number: '9876500009', colour: 'red' }] });
      assert.equal(extra.statusCode, 422);
    });
  });
}
