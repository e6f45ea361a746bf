import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { uploadCohort } from '../helpers/cohorts.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

// POST …/cohorts/mapping-suggestion reads a CSV's header row only and suggests a config that maps
// by name, never by position, on both backends and under both prefixes.

interface SuggestionBody {
  columns: string[];
  suggestion: { phone_number: { column_name: string }; app_variables: Record<string, { column_name: string }> };
  matched: Array<{ variable: string; column: string; by: string }>;
  unmapped_required: string[];
}

const deployment = '/orgs/acme/workspaces/main/deployments/inbound';

function suggest(base: string, prefix: string, key: string, csv: Blob): Promise<Response> {
  const form = new FormData();
  form.set('cohort_file', csv, 'users.csv');
  return fetch(`${base}${prefix}${deployment}/cohorts/mapping-suggestion`, {
    method: 'POST',
    headers: { 'x-api-key': key },
    body: form,
  });
}

for (const backend of await backends()) {
  describe(`cohort mapping suggestion on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;

    before(async () => {
      t = await createTestApp(backend, { ROSTER_MAX_UPLOAD_BYTES: String(64 * 1024 * 1024) });
      acme = await seedTenant(t, 'acme');
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await t?.close();
    });

    it('maps by name only under both prefixes: the first column is not taken for a required variable', async () => {
      const csv = new Blob(['mobile,Customer Name,balance\r\n9876543210,Asha,10\r\n']);
      for (const prefix of ['/v1', '/api/scheduling/v1']) {
        const response = await suggest(base, prefix, acme.apiKey, csv);
        const body = (await response.json()) as SuggestionBody;
        assert.equal(response.status, 200, JSON.stringify(body));
        assert.deepEqual(body, {
          columns: ['mobile', 'Customer Name', 'balance'],
          suggestion: {
            phone_number: { column_name: 'mobile' },
            app_variables: { customer_name: { column_name: 'Customer Name' } },
          },
          matched: [
            { variable: 'phone_number', column: 'mobile', by: 'name' },
            { variable: 'customer_name', column: 'Customer Name', by: 'name' },
          ],
          unmapped_required: [],
        });
      }
    });

    it('leaves the required variable and the phone unmapped when no column is named like them', async () => {
      const response = await suggest(base, '/v1', acme.apiKey, new Blob(['\ufeffnumber;who\n1;a\n']));
      const body = (await response.json()) as SuggestionBody;
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.deepEqual(body.columns, ['number', 'who']);
      assert.deepEqual(body.matched, []);
      assert.deepEqual(body.unmapped_required, ['phone_number', 'customer_name']);
      assert.equal(body.suggestion.phone_number.column_name, '');
      assert.deepEqual(body.suggestion.app_variables, {});
    });

    it('a suggestion with a required variable left unmapped is refused on upload, so it cannot go live', async () => {
      const csv = 'phone,name\n9876543210,Asha\n';
      const response = await suggest(base, '/v1', acme.apiKey, new Blob([csv]));
      const body = (await response.json()) as SuggestionBody;
      assert.deepEqual(body.unmapped_required, ['customer_name']);
      const upload = await uploadCohort(base, `/v1${deployment}/cohorts/upload`, acme.apiKey, {
        name: 'Defaults',
        csv,
        config: body.suggestion,
      });
      assert.equal(upload.status, 422);
      assert.equal(((await upload.json()) as { error: { code: string } }).error.code, 'required_variable_not_mapped');
    });

    it('answers from the first bytes of a large file without reading the rest', async () => {
      const row = '9876543210,Asha Verma,1500\n';
      const csv = new Blob([
        'phone,customer_name,outstanding_amount\n',
        row.repeat(Math.ceil((40 * 1024 * 1024) / row.length)),
      ]);
      const started = Date.now();
      const response = await suggest(base, '/v1', acme.apiKey, csv);
      const body = (await response.json()) as SuggestionBody;
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.deepEqual(body.columns, ['phone', 'customer_name', 'outstanding_amount']);
      assert.deepEqual(body.unmapped_required, []);
      assert.ok(Date.now() - started < 10_000, 'answered without waiting for 40 MB');
    });

    it('refuses a request without cohort_file, and a deployment out of reach', async () => {
      const form = new FormData();
      form.set('name', 'x');
      const missing = await fetch(`${base}/v1${deployment}/cohorts/mapping-suggestion`, {
        method: 'POST',
        headers: { 'x-api-key': acme.apiKey },
        body: form,
      });
      assert.equal(missing.status, 422);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'missing_file');
      const elsewhere = await fetch(
        `${base}/v1/orgs/acme/workspaces/main/deployments/nope/cohorts/mapping-suggestion`,
        {
          method: 'POST',
          headers: { 'x-api-key': acme.apiKey },
          body: (() => {
            const f = new FormData();
            f.set('cohort_file', new Blob(['phone\n1\n']), 'a.csv');
            return f;
          })(),
        },
      );
      assert.equal(elsewhere.status, 404);
    });
  });
}
