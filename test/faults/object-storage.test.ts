import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { CohortBody } from '../helpers/cohorts.js';
import { E2E_COHORTS, E2E_MASTER_KEY, fetchCohort, waitForCohortOverHttp } from '../helpers/e2e-tenant.js';
import type { SpawnedServer } from '../helpers/spawn-server.js';
import {
  ask,
  assertAliveAndClean,
  record,
  spawnFaultServer,
  tally,
  waitForOutput,
  type WatchedProcess,
} from './helpers/fault-processes.js';
import {
  cohortCsv,
  cohortTotal,
  cohortUploadInit,
  lookupPath,
  postCohort,
  setUpFaultTenant,
} from './helpers/fault-tenant.js';
import { startStoppableS3, type StoppableS3 } from './helpers/stoppable-s3.js';
import { streamCohortUpload } from './helpers/streamed-upload.js';

// `roster serve` on SQLite with its files in an s3rver the test takes away and brings back: an
// upload meets the outage before it starts and part-way through its body; an ingest meets it while
// reading the staged file. Nothing is half-kept, nothing answers 500, the process stays up.

/** 200k rows, ~9.6 MB: more than one 8 MB part, so the store is mid multipart upload when the fault hits. */
const BIG_ROWS = 200_000;
/** What the job runner logs (at warn) when an attempt fails and is queued again. */
const ATTEMPT_FAILED = /job failed; will retry/;

describe('object storage outages under a real roster serve (SQLite + s3rver)', () => {
  let s3: StoppableS3;
  let server: SpawnedServer & WatchedProcess;
  const big = Buffer.from(cohortCsv(BIG_ROWS));

  before(async () => {
    s3 = await startStoppableS3();
    server = await spawnFaultServer({
      ...s3.env(),
      ROSTER_JOB_POLL_MS: '100',
      ROSTER_JOB_BACKOFF_MS: '500',
      ROSTER_JOB_LEASE_MS: '5000',
    });
    await setUpFaultTenant(server.url);
  });
  after(async () => {
    await server?.stop();
    await s3?.close();
  });

  /** The objects of the bucket, with the storage up. */
  const keys = async () => (await s3.listKeys()).sort();

  it('answers 503 storage_unavailable to an upload while storage is down, keeps nothing, and takes the same upload once it is back', async (t: TestContext) => {
    const csv = cohortCsv(50);
    const before = await cohortTotal(server.url);
    const keysBefore = await keys();
    await s3.stop();

    const refused = await ask(`${server.url}${E2E_COHORTS}/upload`, cohortUploadInit('Down before', csv));
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.code, 'storage_unavailable');
    assert.equal(await cohortTotal(server.url), before, 'a refused upload created a cohort');
    const ready = await ask(`${server.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal((ready.body as { checks: { object_storage: string } }).checks.object_storage, 'unreachable');

    await s3.start();
    assert.deepEqual(await keys(), keysBefore, 'the refused upload left objects in the bucket');
    const accepted = await postCohort(server.url, 'Down before', csv);
    assert.equal(accepted.status, 200, await accepted.clone().text());
    const done = await waitForCohortOverHttp(
      server.url,
      ((await accepted.json()) as { cohort_id: string }).cohort_id,
      30_000,
    );
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual(done.result, {
      total_records: 50,
      valid_records: 50,
      rejected_records: 0,
      rejections_by_reason: [],
    });
    assert.equal(await cohortTotal(server.url), before + 1);
    assertAliveAndClean('roster serve', server);
    t.diagnostic(`refused while down: ${refused.status} ${refused.code}`);
  });

  it('answers 503 storage_unavailable when storage goes away part-way through an upload, keeps nothing, and takes the same upload once it is back', async (t: TestContext) => {
    const before = await cohortTotal(server.url);
    const keysBefore = await keys();
    let stoppedAt = 0;
    const refused = await streamCohortUpload(server.url, 'Cut mid-upload', big, async (sent) => {
      // Past the first 8 MB part: the multipart upload is under way in the store.
      if (stoppedAt === 0 && sent >= 8.5 * 1024 * 1024) {
        stoppedAt = sent;
        await s3.stop();
      }
    });
    assert.ok(stoppedAt > 0, 'storage was never stopped');
    // The answer may come before the client has sent the whole body; a connection cut instead of an answer is a failure too.
    assert.equal(refused.status, 503, `${refused.code}: ${JSON.stringify(refused.body)}`);
    assert.equal(refused.code, 'storage_unavailable');
    assert.equal(await cohortTotal(server.url), before, 'a refused upload created a cohort');

    await s3.start();
    assert.deepEqual(await keys(), keysBefore, 'the refused upload left objects in the bucket');
    const started = Date.now();
    const again = await streamCohortUpload(server.url, 'Cut mid-upload', big, async () => undefined);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const done = await waitForCohortOverHttp(server.url, (again.body as { cohort_id: string }).cohort_id, 120_000);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual(done.result, {
      total_records: BIG_ROWS,
      valid_records: BIG_ROWS,
      rejected_records: 0,
      rejections_by_reason: [],
    });
    assert.equal(await cohortTotal(server.url), before + 1);
    assertAliveAndClean('roster serve', server);
    t.diagnostic(
      `storage stopped after ${(stoppedAt / 1024 / 1024).toFixed(1)} MB of ${(big.length / 1024 / 1024).toFixed(1)} MB sent; the retry was ingested in ${Date.now() - started} ms`,
    );
  });

  it('finishes an ingest that met the storage outage on a later attempt once storage is back, with exact counts', async (t: TestContext) => {
    // Ten rejected rows: the attempt also writes a rejection file to the store, at its end.
    const csv = `${big.toString('utf8')}${Array.from({ length: 10 }, (_, i) => `not-a-phone-${i},Bad ${i},0,2024-07-31,Hindi`).join('\n')}\n`;
    const response = await postCohort(server.url, 'Cut mid-ingest', csv);
    assert.equal(response.status, 200, await response.clone().text());
    const cohortId = ((await response.json()) as { cohort_id: string }).cohort_id;
    const from = server.output().length;
    // The runner polls every 100 ms and streams the staged file while it parses: cut it early on,
    // and keep the store down until an attempt has failed on it.
    await new Promise((resolve) => setTimeout(resolve, 400));
    await s3.stop();
    const downAt = Date.now();
    const statuses = record(async () => (await fetchCohort(server.url, cohortId)).status, 200);
    const lookups = record(
      () =>
        ask(`${server.url}${lookupPath(String(9800000000 + BIG_ROWS - 1))}`, {
          headers: { 'x-api-key': E2E_MASTER_KEY },
        }),
      200,
    );
    let failedAfter: number;
    let recoveredIn: number;
    let done: CohortBody;
    try {
      try {
        await waitForOutput(server.output, ATTEMPT_FAILED, { from, timeoutMs: 30_000 });
        failedAfter = Date.now() - downAt;
      } catch (error) {
        throw new Error(
          `no attempt failed within 30 s of the outage; cohort statuses seen: ${[...new Set(statuses.seen())].join(', ')}\n${(error as Error).message}`,
        );
      } finally {
        await s3.start();
      }
      const backAt = Date.now();
      done = await waitForCohortOverHttp(server.url, cohortId, 120_000);
      recoveredIn = Date.now() - backAt;
    } finally {
      await statuses.stop().catch(() => undefined);
      await lookups.stop().catch(() => undefined);
    }
    const seen = statuses.seen();
    const answers = lookups.seen();
    assert.equal(done.status, 'completed', `${JSON.stringify(done)}\n${server.output().slice(from).slice(-3000)}`);
    assert.deepEqual(done.result, {
      total_records: BIG_ROWS + 10,
      valid_records: BIG_ROWS,
      rejected_records: 10,
      rejections_by_reason: [{ code: 'invalid_phone', count: 10, example_row: BIG_ROWS + 2 }],
    });
    assert.ok(
      seen.every((status) => status === 'processing' || status === 'completed'),
      `statuses seen: ${[...new Set(seen)].join(', ')}`,
    );
    // Lookups read the database only: the outage must not touch them, and a cohort is never half visible.
    assert.ok(
      answers.every((answer) => answer.status === 200),
      `lookups answered ${JSON.stringify(answers.filter((a) => a.status !== 200).slice(0, 3))}`,
    );
    const found = answers.map((answer) => (answer.body as { found: boolean }).found);
    assert.ok(
      found.indexOf(true) === -1 || found.slice(found.indexOf(true)).every(Boolean),
      'the last contact was found, then lost again',
    );
    const last = await ask(`${server.url}${lookupPath(String(9800000000 + BIG_ROWS - 1))}`, {
      headers: { 'x-api-key': E2E_MASTER_KEY },
    });
    assert.equal((last.body as { found: boolean }).found, true);
    const rejected = await ask(`${server.url}${E2E_COHORTS}/${cohortId}/files?file_type=rejected_records`, {
      headers: { 'x-api-key': E2E_MASTER_KEY },
    });
    assert.equal(rejected.status, 200);
    assert.equal(String(rejected.body).trim().split('\r\n').length, 11, 'the rejection file lacks rows');
    assertAliveAndClean('roster serve', server);
    const failures = server.output().slice(from).match(new RegExp(ATTEMPT_FAILED.source, 'g'))?.length ?? 0;
    t.diagnostic(
      `first attempt failed ${failedAfter} ms into the outage; cohort completed ${recoveredIn} ms after storage came back; ${failures} failed attempt(s) logged; lookups ${JSON.stringify(tally(answers))}`,
    );
  });
});
