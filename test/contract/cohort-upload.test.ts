import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { backends } from '../helpers/backends.js';
import { waitForCohort } from '../helpers/cohorts.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';
import {
  DOCUMENTED_COHORT,
  DOCUMENTED_COHORT_PROCESSING,
  DOCUMENTED_CSV,
  DOCUMENTED_CURL_FORM,
  DOCUMENTED_TRANSFORMATION,
} from './fixtures/cohort-upload.js';
import { assertSameShape } from './helpers/same-shape.js';

const run = promisify(execFile);
/** Roster's live marker on every cohort (README, "Live marker"): not in the vendor's examples. */
const LIVE_MARKER = ['$.serving_phones', '$.is_live'];

// The vendor's "Upload Cohort" page, held to its word: its curl request, sent by curl to a real
// server on 127.0.0.1, answers with its example's status and shape, and so does the cohort read back.
for (const backend of await backends()) {
  describe(`the documented cohort upload on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;
    let dir: string;
    const deployment = '/api/scheduling/v1/orgs/acme/workspaces/main/deployments/inbound';

    before(async () => {
      t = await createTestApp(backend);
      acme = await seedTenant(t, 'acme');
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
      dir = await mkdtemp(path.join(os.tmpdir(), 'roster-contract-'));
    });
    after(async () => {
      await t?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("answers the page's curl with 200 and its example's shape, then reads back completed in that shape", async () => {
      await writeFile(path.join(dir, 'users.csv'), DOCUMENTED_CSV);
      await writeFile(path.join(dir, 'config.json'), JSON.stringify(DOCUMENTED_TRANSFORMATION));
      const [csvField, configField] = DOCUMENTED_CURL_FORM.fileFields;
      const { stdout } = await run(
        'curl',
        [
          '--silent',
          '--write-out',
          '\n%{http_code}',
          '--request',
          'POST',
          '--url',
          `${base}${deployment}/cohorts/upload`,
          '--header',
          'Content-Type: multipart/form-data',
          '--header',
          `X-API-Key: ${acme.apiKey}`,
          '--form',
          `name=${DOCUMENTED_CURL_FORM.name}`,
          '--form',
          `${csvField}=@users.csv`,
          '--form',
          `${configField}=@config.json`,
        ],
        { cwd: dir },
      );
      const status = Number(stdout.slice(stdout.lastIndexOf('\n') + 1));
      const body = JSON.parse(stdout.slice(0, stdout.lastIndexOf('\n'))) as typeof DOCUMENTED_COHORT;
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.status, 'processing');
      assertSameShape(body, DOCUMENTED_COHORT_PROCESSING, 'the upload response', { additions: LIVE_MARKER });
      assert.equal(body.name, DOCUMENTED_CURL_FORM.name);
      assert.equal(body.source_type, DOCUMENTED_COHORT.source_type);
      assert.match(body.cohort_id, /^coh-[a-z0-9]+$/);

      const done = await waitForCohort(t, `${deployment}/cohorts/${body.cohort_id}`, acme.apiKey);
      const read = await t.call('GET', `${deployment}/cohorts/${body.cohort_id}`, { key: acme.apiKey });
      assert.equal(read.statusCode, 200, read.body);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      // Roster's additions, the rejected rows by code and the live marker, are named here: any
      // other undocumented key, or a documented one missing or of another type, still fails.
      assertSameShape(read.json(), DOCUMENTED_COHORT, 'the completed cohort', {
        additions: ['$.result.rejections_by_reason', ...LIVE_MARKER],
      });
      assert.deepEqual(done.result, {
        total_records: 4,
        valid_records: 2,
        rejected_records: 2,
        rejections_by_reason: [{ code: 'duplicate_phone', count: 2, example_row: 3 }],
      });
    });
  });
}
