import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Papa from 'papaparse';
import { backends } from '../helpers/backends.js';
import { uploadCohort, waitForCohort, type CohortBody } from '../helpers/cohorts.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

// POST …/cohorts/validate answers what an upload of the same form would come to — the same counts
// and summary as the completed cohort, the same refusals — and stores nothing, on both backends.

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

// A row for each cause, repeats straddling units of 3 rows.
const ROWS: string[][] = [
  ['9876543210', 'Asha', '100', '31/07/2024', 'Hindi'],
  ['98123', 'Dev', '1', '01/09/2024', 'English'],
  ['9823456789', '', '1200', '01/09/2024', 'Hindi'],
  ['9834567890', 'Gita', '12.5.0', '01/09/2024', 'Hindi'],
  ['+919876543210', 'Asha again', '1', '31/07/2024', 'Hindi'],
  ['9.87654E+09', 'Farah', '1', '01/09/2024', 'Hindi'],
  ['9856789012', 'Ira', '5'],
  ['', 'Nobody', '1', '01/09/2024', 'Hindi'],
  ['9845678901', 'Hari', '800', '31/02/2024', 'Hindi'],
  ['09876543210', 'Asha third', '1', '31/07/2024', 'Hindi'],
  ['9812345678', 'N'.repeat(25), '1', '01/09/2024', 'Hindi'],
  ['9812345679', 'Nul\u0000', '1', '01/09/2024', 'Hindi'],
  ['abc', 'Bad', '1', '01/09/2024', 'Hindi'],
  ['9812345670', 'Fine', '2', '01/09/2024', 'English'],
  ['98765 43210', 'Asha fourth', '1', '31/07/2024', 'Hindi'],
];

interface DryRunBody {
  total_records: number;
  valid_records: number;
  rejected_records: number;
  rejections_by_reason: Array<{ code: string; count: number; example_row: number }>;
  rejected_rows: Array<{ row: number; fields: string[]; reason: string; code: string }>;
}

const csvOf = (rows: string[][]) => Papa.unparse([HEADER, ...rows], { newline: '\r\n' });

for (const backend of await backends()) {
  describe(`cohort dry run on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;
    const deployment = '/orgs/acme/workspaces/main/deployments/inbound';

    before(async () => {
      t = await createTestApp(backend, {
        ROSTER_INGEST_BATCH_SIZE: '3',
        ROSTER_MAX_FIELD_LENGTH: '20',
        ROSTER_MAX_ROWS: '150',
        ROSTER_MAX_UPLOAD_BYTES: '100000',
        ROSTER_MAX_ROW_BYTES: '3000',
      });
      acme = await seedTenant(t, 'acme');
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await t?.close();
    });

    /** What the data folder holds outside the database: stored files and every temporary folder. */
    async function filesOnDisk(): Promise<string[]> {
      const found: string[] = [];
      for (const folder of ['blobs', 'blobs-tmp', 'uploads-tmp']) {
        const entries = await readdir(path.join(t.backing.dataDir, folder), { recursive: true }).catch(() => []);
        found.push(...entries.map((entry) => `${folder}/${entry}`));
      }
      return found.sort();
    }

    async function cohortCount(): Promise<number> {
      const list = await t.call('GET', `/v1${deployment}/cohorts?limit=100`, { key: acme.apiKey });
      assert.equal(list.statusCode, 200, list.body);
      return (list.json() as { total: number }).total;
    }

    const validate = (prefix: string, parts: Parameters<typeof uploadCohort>[3]) =>
      uploadCohort(base, `${prefix}${deployment}/cohorts/validate`, acme.apiKey, parts);

    it('counts rows as the completed cohort does, under both prefixes, and stores nothing', async () => {
      const csv = csvOf(ROWS);
      const cohortsBefore = await cohortCount();
      const filesBefore = await filesOnDisk();
      const storedBefore = await t.storedCohortIds();
      const answers: DryRunBody[] = [];
      for (const prefix of ['/v1', '/api/scheduling/v1']) {
        const response = await validate(prefix, { csv, config: CONFIG });
        const body = (await response.json()) as DryRunBody;
        assert.equal(response.status, 200, JSON.stringify(body));
        answers.push(body);
      }
      assert.deepEqual(answers[1], answers[0], 'both prefixes answer the same');
      assert.equal(await cohortCount(), cohortsBefore, 'no cohort was created');
      assert.deepEqual(await filesOnDisk(), filesBefore, 'no file was stored or left behind');
      assert.deepEqual(await t.storedCohortIds(), storedBefore, 'nothing reached object storage');

      const dryRun = answers[0]!;
      const response = await uploadCohort(base, `/v1${deployment}/cohorts/upload`, acme.apiKey, {
        name: 'Real upload',
        csv,
        config: CONFIG,
      });
      const accepted = (await response.json()) as CohortBody;
      assert.equal(response.status, 200, JSON.stringify(accepted));
      const cohort = await waitForCohort(t, `/v1${deployment}/cohorts/${accepted.cohort_id}`, acme.apiKey);
      assert.equal(cohort.status, 'completed', JSON.stringify(cohort));
      const { rejected_rows: rejectedRows, ...counts } = dryRun;
      assert.deepEqual(counts, cohort.result, 'the dry run counts what the upload counts');
      assert.deepEqual(counts, {
        total_records: 15,
        valid_records: 2,
        rejected_records: 13,
        rejections_by_reason: [
          { code: 'duplicate_phone', count: 3, example_row: 6 },
          { code: 'format_failed', count: 2, example_row: 5 },
          { code: 'invalid_phone', count: 2, example_row: 3 },
          { code: 'field_too_long', count: 1, example_row: 12 },
          { code: 'missing_phone', count: 1, example_row: 9 },
          { code: 'missing_required_value', count: 1, example_row: 4 },
          { code: 'nul_character', count: 1, example_row: 13 },
          { code: 'phone_scientific_notation', count: 1, example_row: 7 },
          { code: 'wrong_field_count', count: 1, example_row: 8 },
        ],
      });

      // Row by row, the rejection file of the real upload: the same rows, fields and reasons.
      const file = await t.call(
        'GET',
        `/v1${deployment}/cohorts/${accepted.cohort_id}/files?file_type=rejected_records`,
        {
          key: acme.apiKey,
        },
      );
      const [, ...rejected] = Papa.parse<string[]>(file.body.replace(/^\ufeff/, ''), { skipEmptyLines: true }).data;
      assert.deepEqual(
        rejectedRows.map((r) => r.reason),
        rejected.map((r) => r[5]),
      );
      assert.deepEqual(
        rejectedRows.map((r) => r.row),
        [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16],
      );
      assert.deepEqual(rejectedRows[3], {
        row: 6,
        fields: ROWS[4],
        reason: 'phone +919876543210 repeats row 2; the first row is kept',
        code: 'duplicate_phone',
      });
      assert.deepEqual(rejectedRows[5]?.fields, ['9856789012', 'Ira', '5'], 'a short row as uploaded');
    });

    it('shows the first 100 rejected rows and counts them all', async () => {
      const rows = Array.from({ length: 120 }, (_, i) => [`12${i}`, `P${i}`, '1', '01/09/2024', 'Hindi']);
      rows.push(['9876543210', 'Kept', '1', '01/09/2024', 'Hindi']);
      const response = await validate('/v1', { csv: csvOf(rows), config: CONFIG });
      const body = (await response.json()) as DryRunBody;
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.equal(body.total_records, 121);
      assert.equal(body.valid_records, 1);
      assert.equal(body.rejected_records, 120);
      assert.deepEqual(body.rejections_by_reason, [{ code: 'invalid_phone', count: 120, example_row: 2 }]);
      assert.equal(body.rejected_rows.length, 100);
      assert.equal(body.rejected_rows.at(-1)?.row, 101);
    });

    it('takes the form without a name, and checks a name that is given', async () => {
      const csv = csvOf(ROWS.slice(0, 1));
      const clean = await validate('/v1', { csv, config: CONFIG });
      assert.equal(clean.status, 200);
      assert.deepEqual(await clean.json(), {
        total_records: 1,
        valid_records: 1,
        rejected_records: 0,
        rejections_by_reason: [],
        rejected_rows: [],
      });
      const named = await validate('/v1', { name: 'bad/name', csv, config: CONFIG });
      assert.equal(named.status, 422);
      assert.equal(((await named.json()) as { error: { code: string } }).error.code, 'validation_failed');
    });

    it("refuses what /upload refuses, with /upload's status and body, and leaves nothing behind", async () => {
      const cohortsBefore = await cohortCount();
      const filesBefore = await filesOnDisk();
      const cases: Array<[string, Parameters<typeof uploadCohort>[3]]> = [
        ['no config', { csv: csvOf(ROWS) }],
        ['no file', { config: CONFIG }],
        ['an unknown part', { csv: csvOf(ROWS), config: CONFIG, extra: { colour: 'red' } }],
        ['a config that is not JSON', { csv: csvOf(ROWS), config: '{not json' }],
        [
          'a column the file lacks',
          { csv: csvOf(ROWS), config: { ...CONFIG, phone_number: { column_name: 'phone', country_code: 'IN' } } },
        ],
        ['an empty file', { csv: '', config: CONFIG }],
        ['a header without rows', { csv: `${HEADER.join(',')}\r\n`, config: CONFIG }],
        ['a file over the size limit', { csv: 'x'.repeat(100_001), config: CONFIG }],
      ];
      for (const prefix of ['/v1', '/api/scheduling/v1']) {
        for (const [label, parts] of cases) {
          const upload = await uploadCohort(base, `${prefix}${deployment}/cohorts/upload`, acme.apiKey, {
            name: 'Refused',
            ...parts,
          });
          const dryRun = await validate(prefix, { name: 'Refused', ...parts });
          const uploadBody = await upload.text();
          assert.ok(upload.status >= 400 && upload.status < 500, `${label}: ${uploadBody}`);
          assert.equal(dryRun.status, upload.status, `${prefix} ${label}`);
          assert.deepEqual(JSON.parse(await dryRun.text()), JSON.parse(uploadBody), `${prefix} ${label}`);
        }
      }
      // JSON is POST /cohorts' body (a hosted CSV's URL), checked against its schema; other types are refused.
      const incompleteJson = await t.call('POST', `/v1${deployment}/cohorts/validate`, {
        key: acme.apiKey,
        body: { name: 'x' },
      });
      assert.equal(incompleteJson.statusCode, 422, incompleteJson.body);
      assert.deepEqual(
        (incompleteJson.json() as { error: { data: { details: Array<{ field: string }> } } }).error.data.details.map(
          (d) => d.field,
        ),
        ['/body/source', '/body/cohort_transformation'],
      );
      const text = await t.call('POST', `/v1${deployment}/cohorts/validate`, {
        key: acme.apiKey,
        body: 'mobile\n9811111111\n',
        headers: { 'content-type': 'text/csv' },
      });
      assert.equal(text.statusCode, 415, text.body);
      const unknown = await uploadCohort(
        base,
        '/v1/orgs/acme/workspaces/main/deployments/nope/cohorts/validate',
        acme.apiKey,
        { csv: csvOf(ROWS), config: CONFIG },
      );
      assert.equal(unknown.status, 404);
      assert.equal(await cohortCount(), cohortsBefore);
      assert.deepEqual(await filesOnDisk(), filesBefore);
    });

    it('answers 422 invalid_csv for a row past the first that cannot be read, with the code and message its upload fails with', async () => {
      const csv = `${csvOf(ROWS.slice(0, 3))}\r\n"9812345671,Open quote,1,01/09/2024,Hindi\r\n${'x,'.repeat(2000)}\r\n`;
      const response = await validate('/v1', { csv, config: CONFIG });
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(response.status, 422, JSON.stringify(body));
      const upload = await uploadCohort(base, `/v1${deployment}/cohorts/upload`, acme.apiKey, {
        name: 'Unreadable',
        csv,
        config: CONFIG,
      });
      const accepted = (await upload.json()) as CohortBody;
      assert.equal(upload.status, 200, JSON.stringify(accepted));
      const failed = await waitForCohort(t, `/v1${deployment}/cohorts/${accepted.cohort_id}`, acme.apiKey);
      assert.equal(failed.status, 'failed');
      assert.equal(body.error.code, 'invalid_csv');
      assert.equal(body.error.code, failed.error?.code);
      assert.equal(body.error.message, failed.error?.message);
    });

    it('answers 422 too_many_rows for a file over ROSTER_MAX_ROWS, which an upload reports on its failed cohort', async () => {
      const rows = Array.from({ length: 151 }, (_, i) => [String(9700000000 + i), 'P', '1', '01/09/2024', 'Hindi']);
      const response = await validate('/v1', { csv: csvOf(rows), config: CONFIG });
      const body = (await response.json()) as { error: { code: string } };
      assert.equal(response.status, 422, JSON.stringify(body));
      assert.equal(body.error.code, 'too_many_rows');
      assert.deepEqual(await readdir(path.join(t.backing.dataDir, 'uploads-tmp')).catch(() => []), []);
    });
  });

  describe(`cohort dry run of a large file on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;
    const deployment = '/orgs/acme/workspaces/main/deployments/inbound';

    before(async () => {
      t = await createTestApp(backend);
      acme = await seedTenant(t, 'acme');
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await t?.close();
    });

    it('checks a file over 1 MB on worker threads, as its ingest does, with exact counts', async () => {
      // 30,000 rows (about 1.2 MB): every tenth phone is letters, every 1000th repeats the first row's.
      const rows = Array.from({ length: 30_000 }, (_, i) => [
        i % 10 === 9 ? `bad${i}` : i % 1000 === 500 ? '9800000000' : `${9800000000 + i}`,
        `Person ${i}`,
        '1',
        '01/09/2024',
        'Hindi',
      ]);
      const csv = csvOf(rows);
      assert.ok(Buffer.byteLength(csv) > 1024 * 1024, `${Buffer.byteLength(csv)} bytes`);
      const response = await uploadCohort(base, `/v1${deployment}/cohorts/validate`, acme.apiKey, {
        csv,
        config: CONFIG,
      });
      const body = (await response.json()) as DryRunBody;
      assert.equal(response.status, 200, JSON.stringify(body).slice(0, 500));
      assert.equal(body.total_records, 30_000);
      assert.deepEqual(body.rejections_by_reason, [
        { code: 'invalid_phone', count: 3000, example_row: 11 },
        { code: 'duplicate_phone', count: 30, example_row: 502 },
      ]);
      assert.equal(body.valid_records, 30_000 - 3030);
    });
  });
}
