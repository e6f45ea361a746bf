import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/http/app.js';
import type { JobRunner } from '../../src/queue/runner.js';
import { LocalBlobStore } from '../../src/storage/blobs/local-blob-store.js';
import { createJobRunner } from '../../src/worker.js';
import { backends } from '../helpers/backends.js';
import { SEED_CONFIG, uploadCohort, waitForCohort, type CohortBody } from '../helpers/cohorts.js';
import { createTestApp, seedTenant, TEST_MASTER_KEY, type SeededTenant, type TestApp } from '../helpers/test-app.js';

const sqlite = (await backends())[0]!;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The value of one sample line, e.g. `name{label="x"}`; undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  let t: TestApp;
  let acme: SeededTenant;
  let base: string;
  let runner: JobRunner;
  const deployment = '/v1/orgs/acme/workspaces/main/deployments/inbound';
  const metrics = async () => {
    const response = await t.call('GET', '/metrics', { key: null });
    assert.equal(response.statusCode, 200, response.body);
    return response;
  };

  before(async () => {
    t = await createTestApp(sqlite, { ROSTER_JOB_POLL_MS: '50' });
    acme = await seedTenant(t, 'acme');
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    // Run jobs the way `roster serve` does: with the app's sink, so its /metrics counts the rows.
    await t.runner.stop();
    runner = createJobRunner(
      t.config,
      t.backing.storage,
      new LocalBlobStore(t.backing.dataDir),
      silent,
      t.app.cohortMetrics,
    );
    await runner.start();
  });
  after(async () => {
    await runner?.stop();
    await t?.close();
  });

  it('answers without a key in the Prometheus text format, labelling requests by route pattern', async () => {
    assert.equal((await t.call('GET', '/v1/orgs')).statusCode, 200);
    assert.equal((await t.call('GET', '/v1/no-such-route/12345')).statusCode, 404);
    const lookup = await t.call('GET', `${deployment}/callers/${encodeURIComponent('+919999999999')}`, {
      key: acme.apiKey,
    });
    assert.equal((lookup.json() as { found: boolean }).found, false);

    const response = await metrics();
    assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = response.body;
    assert.match(
      text,
      /^roster_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/orgs"[^}]*status_code="200"[^}]*\} 1$/m,
    );
    assert.match(
      text,
      /^roster_http_request_duration_seconds_count\{method="GET",route="\/v1\/orgs\/:org_id\/workspaces\/:workspace_id\/deployments\/:deployment_id\/callers\/:phone",status_code="200"\} 1$/m,
    );
    assert.match(
      text,
      /^roster_http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} 1$/m,
    );
    assert.match(text, /^roster_jobs\{status="queued"\} \d+$/m);
    assert.match(text, /^roster_process_cpu_user_seconds_total \d/m);
    assert.equal(sample(text, 'roster_caller_lookup_duration_seconds_count{found="false"}'), 1);
    assert.ok(!text.includes('9999999999'), 'a phone number reached the metrics');
    assert.ok(!text.includes('12345'), 'a raw URL reached the metrics');
    assert.ok(!text.includes(acme.apiKey) && !text.includes(TEST_MASTER_KEY), 'a key reached the metrics');
  });

  it('counts the rows of a completed cohort, valid and rejected, and times found lookups', async () => {
    const csv =
      'mobile,name,balance,payment_due,preferred_language\n9876543210,Asha,1500,2024-07-31,Hindi\n9876543211,Ravi,200,2024-08-01,English\nN/A,Nobody,0,2024-08-01,English\n';
    const response = await uploadCohort(base, `${deployment}/cohorts/upload`, acme.apiKey, {
      name: 'Metrics',
      csv,
      config: SEED_CONFIG,
    });
    const created = (await response.json()) as CohortBody;
    assert.equal(response.status, 200, JSON.stringify(created));
    const done = await waitForCohort(t, `${deployment}/cohorts/${created.cohort_id}`, acme.apiKey);
    assert.deepEqual(done.result, {
      total_records: 3,
      valid_records: 2,
      rejected_records: 1,
      rejections_by_reason: [{ code: 'invalid_phone', count: 1, example_row: 4 }],
    });
    assert.equal(
      (await t.call('GET', `${deployment}/callers/${encodeURIComponent('+919876543210')}`, { key: acme.apiKey }))
        .statusCode,
      200,
    );

    const text = (await metrics()).body;
    assert.equal(sample(text, 'roster_cohort_rows_ingested_total{result="valid"}'), 2);
    assert.equal(sample(text, 'roster_cohort_rows_ingested_total{result="rejected"}'), 1);
    assert.equal(sample(text, 'roster_caller_lookup_duration_seconds_count{found="true"}'), 1);
    assert.equal(sample(text, 'roster_jobs{status="done"}'), 1);
  });

  it('keeps a registry per app: two apps in one process serve their own counts', async () => {
    const other = await buildApp(
      t.config,
      { storage: t.backing.storage, blobs: new LocalBlobStore(t.backing.dataDir) },
      false,
    );
    try {
      const response = await other.inject({ method: 'GET', url: '/metrics' });
      assert.equal(response.statusCode, 200, response.body);
      assert.doesNotMatch(response.body, /route="\/v1\/orgs"/);
      assert.equal(sample(response.body, 'roster_cohort_rows_ingested_total{result="valid"}'), 0);
      assert.match(response.body, /^roster_process_cpu_user_seconds_total \d/m);
      assert.equal(sample((await metrics()).body, 'roster_cohort_rows_ingested_total{result="valid"}'), 2);
    } finally {
      await other.close();
    }
  });
});
