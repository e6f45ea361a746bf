import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Papa from 'papaparse';
import { backends } from '../helpers/backends.js';
import { uploadCohort, waitForCohort, type CohortBody } from '../helpers/cohorts.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

// A completed cohort says why its rows were rejected, counted by code, on both backends: the
// transformer's refusals and the repeats each loader finds its own way (a unique index on SQLite,
// SQL over the staged rows on PostgreSQL) land in one summary that adds up to rejected_records.

const HEADER = ['mobile', 'name', 'balance', 'payment_due', 'preferred_language'];
const CONFIG = {
  phone_number: { column_name: 'mobile', country_code: 'IN' },
  app_variables: {
    customer_name: { column_name: 'name' },
    outstanding_amount: { column_name: 'balance', format: { fn: 'number', locale: 'en-IN' } },
    due_date: { column_name: 'payment_due', format: { fn: 'date', input: 'DD/MM/YYYY' } },
  },
  app_overrides: { initial_language_name: { column_name: 'preferred_language' } },
};

// Spreadsheet rows 2-16 (the header is row 1), each with the code it earns.
const ROWS: Array<[string[], string]> = [
  [['9876543210', 'Asha', '100', '31/07/2024', 'Hindi'], 'kept'],
  [['98123', 'Dev', '1', '01/09/2024', 'English'], 'invalid_phone'],
  [['9823456789', '', '1200', '01/09/2024', 'Hindi'], 'missing_required_value'],
  [['9834567890', 'Gita', '12.5.0', '01/09/2024', 'Hindi'], 'format_failed'],
  [['+919876543210', 'Asha again', '1', '31/07/2024', 'Hindi'], 'duplicate_phone'],
  [['9.87654E+09', 'Farah', '1', '01/09/2024', 'Hindi'], 'phone_scientific_notation'],
  [['9856789012', 'Ira', '5'], 'wrong_field_count'],
  [['', 'Nobody', '1', '01/09/2024', 'Hindi'], 'missing_phone'],
  [['9845678901', 'Hari', '800', '31/02/2024', 'Hindi'], 'format_failed'],
  [['09876543210', 'Asha third', '1', '31/07/2024', 'Hindi'], 'duplicate_phone'],
  [['9812345678', 'N'.repeat(25), '1', '01/09/2024', 'Hindi'], 'field_too_long'],
  [['9812345679', 'Nul\u0000', '1', '01/09/2024', 'Hindi'], 'nul_character'],
  [['abc', 'Bad', '1', '01/09/2024', 'Hindi'], 'invalid_phone'],
  [['9812345670', 'Fine', '2', '01/09/2024', 'English'], 'kept'],
  [['98765 43210', 'Asha fourth', '1', '31/07/2024', 'Hindi'], 'duplicate_phone'],
];

const EXPECTED_SUMMARY = [
  { code: 'duplicate_phone', count: 3, example_row: 6 },
  { code: 'format_failed', count: 2, example_row: 5 },
  { code: 'invalid_phone', count: 2, example_row: 3 },
  { code: 'field_too_long', count: 1, example_row: 12 },
  { code: 'missing_phone', count: 1, example_row: 9 },
  { code: 'missing_required_value', count: 1, example_row: 4 },
  { code: 'nul_character', count: 1, example_row: 13 },
  { code: 'phone_scientific_notation', count: 1, example_row: 7 },
  { code: 'wrong_field_count', count: 1, example_row: 8 },
];

for (const backend of await backends()) {
  describe(`rejections by reason on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;
    const deployment = '/orgs/acme/workspaces/main/deployments/inbound';

    before(async () => {
      // Units of 3 rows, so repeats and each code's first row straddle units.
      t = await createTestApp(backend, { ROSTER_INGEST_BATCH_SIZE: '3', ROSTER_MAX_FIELD_LENGTH: '20' });
      acme = await seedTenant(t, 'acme');
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await t?.close();
    });

    async function completed(name: string, rows: string[][]): Promise<CohortBody & { cohort_id: string }> {
      const csv = Papa.unparse([HEADER, ...rows], { newline: '\r\n' });
      const response = await uploadCohort(base, `/v1${deployment}/cohorts/upload`, acme.apiKey, {
        name,
        csv,
        config: CONFIG,
      });
      const accepted = (await response.json()) as CohortBody;
      assert.equal(response.status, 200, JSON.stringify(accepted));
      const cohort = await waitForCohort(t, `/v1${deployment}/cohorts/${accepted.cohort_id}`, acme.apiKey);
      assert.equal(cohort.status, 'completed', JSON.stringify(cohort));
      return cohort;
    }

    it('counts every rejected row by code, repeats included, with the first row of each as its example, under both prefixes', async () => {
      const cohort = await completed(
        'Mixed',
        ROWS.map(([fields]) => fields),
      );
      const expected = {
        total_records: 15,
        valid_records: 2,
        rejected_records: 13,
        rejections_by_reason: EXPECTED_SUMMARY,
      };
      assert.deepEqual(cohort.result, expected);
      for (const prefix of ['/v1', '/api/scheduling/v1']) {
        const read = await t.call('GET', `${prefix}${deployment}/cohorts/${cohort.cohort_id}`, { key: acme.apiKey });
        assert.equal(read.statusCode, 200, read.body);
        assert.deepEqual((read.json() as CohortBody).result, expected, prefix);
      }
      const list = await t.call('GET', `/v1${deployment}/cohorts?search=Mixed`, { key: acme.apiKey });
      assert.deepEqual((list.json() as { items: CohortBody[] }).items[0]?.result, expected, 'the list shows it too');

      // The rejection file is as it always was: the rows as uploaded and the human reason, no code.
      const file = await t.call(
        'GET',
        `/v1${deployment}/cohorts/${cohort.cohort_id}/files?file_type=rejected_records`,
        {
          key: acme.apiKey,
        },
      );
      const [header, ...rejected] = Papa.parse<string[]>(file.body.replace(/^\ufeff/, ''), {
        skipEmptyLines: true,
      }).data;
      assert.deepEqual(header, [...HEADER, 'rejected_reason']);
      assert.deepEqual(
        rejected.map((r) => r[5]),
        [
          "column 'mobile': phone number '98123' is too short for IN",
          "required column 'name' (customer_name) is empty",
          "column 'balance' value '12.5.0' failed number(en-IN): not a number",
          'phone +919876543210 repeats row 2; the first row is kept',
          "column 'mobile': phone number '9.87654E+09' was turned into scientific notation by a spreadsheet and has lost digits; format the column as text and export the file again",
          'row has 3 fields but the header has 5',
          "column 'mobile': phone number '' is empty",
          "column 'payment_due' value '31/02/2024' failed date(DD/MM/YYYY): not a real date",
          'phone +919876543210 repeats row 2; the first row is kept',
          "column 'name' has 25 characters; the limit is 20",
          "column 'name' contains a NUL character (U+0000), which cannot be stored",
          "column 'mobile': phone number 'abc' is not a phone number",
          'phone +919876543210 repeats row 2; the first row is kept',
        ],
      );
    });

    it('a file whose every row is rejected completes with valid_records 0 and says why', async () => {
      const cohort = await completed('All rejected', [
        ['12345', 'A', '1', '01/09/2024', 'Hindi'],
        ['9876501234', 'B', '1', '2024-09-01', 'Hindi'],
        ['123', 'C', '1', '01/09/2024', 'Hindi'],
      ]);
      assert.deepEqual(cohort.result, {
        total_records: 3,
        valid_records: 0,
        rejected_records: 3,
        rejections_by_reason: [
          { code: 'invalid_phone', count: 2, example_row: 2 },
          { code: 'format_failed', count: 1, example_row: 3 },
        ],
      });
    });

    it('a file without a rejected row has an empty summary', async () => {
      const cohort = await completed('Clean', [['9876543210', 'Asha', '100', '31/07/2024', 'Hindi']]);
      assert.deepEqual(cohort.result, {
        total_records: 1,
        valid_records: 1,
        rejected_records: 0,
        rejections_by_reason: [],
      });
    });
  });
}

for (const backend of await backends()) {
  describe(`rejections by reason from worker threads on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;
    const deployment = '/v1/orgs/acme/workspaces/main/deployments/inbound';

    before(async () => {
      t = await createTestApp(backend, { ROSTER_INGEST_WORKERS: '2' });
      acme = await seedTenant(t, 'acme');
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await t?.close();
    });

    it('a file over 1 MB, transformed on worker threads, is counted by code the same way', async () => {
      const padding = 'p'.repeat(200);
      const lines = [HEADER.join(',')];
      for (let i = 0; i < 5000; i++) {
        // Every 10th row (from row 11) repeats the row before; every 25th (from row 26) has no phone.
        const phone = i % 25 === 24 ? '' : String(9700000000 + (i % 10 === 9 ? i - 1 : i));
        lines.push(`${phone},Person ${i},${i},${padding},Hindi`);
      }
      const csv = `${lines.join('\n')}\n`;
      assert.ok(Buffer.byteLength(csv) > 1024 * 1024, 'large enough for worker threads');
      const response = await uploadCohort(base, `${deployment}/cohorts/upload`, acme.apiKey, {
        name: 'Large',
        csv,
        config: {
          phone_number: { column_name: 'mobile', country_code: 'IN' },
          app_variables: { customer_name: { column_name: 'name' } },
        },
      });
      const accepted = (await response.json()) as CohortBody;
      assert.equal(response.status, 200, JSON.stringify(accepted));
      const cohort = await waitForCohort(t, `${deployment}/cohorts/${accepted.cohort_id}`, acme.apiKey);
      // Rows i = 24, 49, … (200 of them) have no phone; of the i ending in 9 (500), those 100 are among
      // them, so 400 repeat the row before: 4400 kept.
      assert.deepEqual(cohort.result, {
        total_records: 5000,
        valid_records: 4400,
        rejected_records: 600,
        rejections_by_reason: [
          { code: 'duplicate_phone', count: 400, example_row: 11 },
          { code: 'missing_phone', count: 200, example_row: 26 },
        ],
      });
    });
  });
}
