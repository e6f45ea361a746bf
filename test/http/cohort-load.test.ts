import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Papa from 'papaparse';
import { backends } from '../helpers/backends.js';
import { SEED_CONFIG, uploadCohort, waitForCohort, type CohortBody } from '../helpers/cohorts.js';
import { servedAcme, type ServedAcme } from '../helpers/test-app.js';

// How each backend loads contacts (row by row on SQLite, COPY into staging and one INSERT on
// PostgreSQL) must not show: the same file gives the same contacts, byte for byte, and the same
// rejection file, in row order, across unit boundaries.

const cohortsPath = '/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts';
/** Uploads `csv` with the seed config and waits until its cohort has completed. */
async function uploadCompleted(served: ServedAcme, name: string, csv: string): Promise<CohortBody> {
  const { t, acme, base } = served;
  const response = await uploadCohort(base, `${cohortsPath}/upload`, acme.apiKey, { name, csv, config: SEED_CONFIG });
  const accepted = (await response.json()) as CohortBody;
  assert.equal(response.status, 200, JSON.stringify(accepted));
  const cohort = await waitForCohort(t, `${cohortsPath}/${accepted.cohort_id}`, acme.apiKey);
  assert.equal(cohort.status, 'completed', JSON.stringify(cohort));
  return cohort;
}

const HEADER = ['mobile', 'name', 'balance', 'payment_due', 'preferred_language'];
const AWKWARD = [
  'He said "hi", then left',
  'back\\slash \\N and \\.',
  'two\nlines\r\nthree',
  '',
  ' leading and trailing ',
  '🙂 ünïcödé 中文 عربى',
  '=1+1',
  'tab\there;semi|pipe',
  'NULL',
];

for (const backend of await backends()) {
  describe(`cohort loading on ${backend.name}`, { skip: backend.skip }, () => {
    // Units of 3 rows, so repeats and rejections straddle units.
    const served = servedAcme(backend, { ROSTER_INGEST_BATCH_SIZE: '3' });

    it('keeps awkward values exactly and lists rejections in row order across units', async () => {
      const { t, acme } = served;
      const rows: string[][] = [];
      for (const [i, value] of AWKWARD.entries())
        rows.push([`98100000${String(i).padStart(2, '0')}`, value || 'x', value, '2024-07-31', 'Hindi']);
      rows.push(['not a phone', 'Bad', '1', '2024-07-31', 'Hindi']); // row 11
      rows.push(['9810000001', 'Repeat of row 3', '2', '2024-07-31', 'Hindi']); // row 12
      rows.push(['9810000099', 'Nul\u0000byte', '3', '2024-07-31', 'Hindi']); // row 13
      rows.push(['+91 98100 00000', 'Repeat of row 2, other form', '4', '2024-07-31', 'Hindi']); // row 14
      rows.push(['9810000098', 'Last', '', '2024-07-31', '']); // row 15
      const csv = Papa.unparse([HEADER, ...rows], { newline: '\r\n' });

      const cohort = await uploadCompleted(served, 'Awkward', csv);
      assert.deepEqual(cohort.result, {
        total_records: 14,
        valid_records: 10,
        rejected_records: 4,
        rejections_by_reason: [
          { code: 'duplicate_phone', count: 2, example_row: 12 },
          { code: 'invalid_phone', count: 1, example_row: 11 },
          { code: 'nul_character', count: 1, example_row: 13 },
        ],
      });

      for (const [i, value] of AWKWARD.entries()) {
        const found = await t.call(
          'GET',
          `/v1/orgs/acme/workspaces/main/deployments/inbound/callers/${encodeURIComponent(`+9198100000${String(i).padStart(2, '0')}`)}`,
          { key: acme.apiKey },
        );
        assert.equal(found.statusCode, 200, found.body);
        const body = found.json() as { found: boolean; app_variables: Record<string, string> };
        assert.equal(body.found, true);
        assert.equal(body.app_variables.customer_name, value || 'x', `row ${i + 2}`);
        if (value.trim() === '')
          assert.equal('outstanding_amount' in body.app_variables, false, `row ${i + 2}: a blank value is left out`);
        else assert.equal(body.app_variables.outstanding_amount, value, `row ${i + 2}`);
      }
      const last = (
        await t.call('GET', `/v1/orgs/acme/workspaces/main/deployments/inbound/callers/%2B919810000098`, {
          key: acme.apiKey,
        })
      ).json() as {
        app_variables: Record<string, string>;
      };
      assert.equal(last.app_variables.customer_name, 'Last');

      const file = await t.call('GET', `${cohortsPath}/${cohort.cohort_id}/files?file_type=rejected_records`, {
        key: acme.apiKey,
      });
      assert.equal(file.statusCode, 200, file.body);
      const parsed = Papa.parse<string[]>(file.body.replace(/^\ufeff/, ''), { skipEmptyLines: true });
      const [header, ...rejected] = parsed.data;
      assert.deepEqual(header, [...HEADER, 'rejected_reason']);
      assert.deepEqual(
        rejected.map((r) => r[1]),
        ['Bad', 'Repeat of row 3', 'Nul\u0000byte', 'Repeat of row 2, other form'],
        'rejections keep row order whichever way they were found',
      );
      assert.match(rejected[0]![5]!, /^column 'mobile': /);
      assert.equal(rejected[1]![5], 'phone +919810000001 repeats row 3; the first row is kept');
      assert.match(rejected[2]![5]!, /column 'name' contains a NUL character/);
      assert.equal(rejected[3]![5], 'phone +919810000000 repeats row 2; the first row is kept');
      assert.equal(rejected[3]![0], "'+91 98100 00000", 'the row as uploaded, neutralised for spreadsheets');
    });
  });

  describe(`repeated phones in full-size units on ${backend.name}`, { skip: backend.skip }, () => {
    // The default unit (1000 rows), so the loader writes many rows per statement.
    const served = servedAcme(backend);

    it('rejects each repeat against the row it repeats, whether in the same statement, unit or an earlier unit', async () => {
      const { t, acme } = served;
      const phone = (i: number) => `98200${String(i).padStart(5, '0')}`;
      // Row r (the header is row 1) holds phone(r) unless it repeats an earlier row.
      const repeats = new Map([
        [12, 5], // within the same 50 rows
        [13, 5], // and again
        [90, 3], // same unit, an earlier statement
        [1150, 7], // a later unit
        [1151, 1149], // a later unit, the first row in that unit's previous statement
      ]);
      const rows: string[][] = [];
      for (let r = 2; r <= 1201; r++) {
        const first = repeats.get(r);
        rows.push([phone(first ?? r), `Person ${r}`, String(r), '2024-07-31', 'Hindi']);
      }
      const csv = Papa.unparse([HEADER, ...rows], { newline: '\n' });
      const cohort = await uploadCompleted(served, 'Repeats', csv);
      assert.deepEqual(cohort.result, {
        total_records: 1200,
        valid_records: 1200 - repeats.size,
        rejected_records: repeats.size,
        rejections_by_reason: [{ code: 'duplicate_phone', count: repeats.size, example_row: 12 }],
      });

      const file = await t.call('GET', `${cohortsPath}/${cohort.cohort_id}/files?file_type=rejected_records`, {
        key: acme.apiKey,
      });
      assert.equal(file.statusCode, 200, file.body);
      const [, ...rejected] = Papa.parse<string[]>(file.body.replace(/^\ufeff/, ''), { skipEmptyLines: true }).data;
      assert.deepEqual(
        rejected.map((r) => [r[1], r[5]]),
        [...repeats].map(([row, first]) => [
          `Person ${row}`,
          `phone +91${phone(first)} repeats row ${first}; the first row is kept`,
        ]),
      );
      // Each repeated phone answers with the row that came first.
      for (const first of new Set(repeats.values())) {
        const found = await t.call(
          'GET',
          `/v1/orgs/acme/workspaces/main/deployments/inbound/callers/${encodeURIComponent(`+91${phone(first)}`)}`,
          { key: acme.apiKey },
        );
        const body = found.json() as { found: boolean; app_variables: Record<string, string> };
        assert.equal(body.app_variables.customer_name, `Person ${first}`);
      }
    });
  });
}
