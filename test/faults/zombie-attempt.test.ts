import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { csvText } from '../helpers/cohorts.js';
import { backends } from '../helpers/backends.js';
import {
  E2E_COHORTS,
  E2E_MASTER_KEY,
  fetchCohort,
  setUpTenant,
  uploadSeedCohort,
  waitForCohortOverHttp,
} from '../helpers/e2e-tenant.js';
import { createScratchDatabase } from '../helpers/test-postgres.js';
import {
  assertAliveAndClean,
  killAll,
  pause,
  record,
  resume,
  spawnFaultServer,
  spawnFaultWorker,
  type WatchedProcess,
} from './helpers/fault-processes.js';
import { lookupPath } from './helpers/fault-tenant.js';
import { postgresProbe, sqliteProbe, waitUntil } from './helpers/store-probe.js';

const HEADER = 'mobile,name,balance,payment_due,preferred_language';
const FIRST = 9600000000;
const headers = { 'x-api-key': E2E_MASTER_KEY };

/** `rows` rows; when `invalidEvery` > 1, all but one row in each `invalidEvery` carry an unusable phone (rejected). */
function csv(rows: number, invalidEvery = 1): string {
  return csvText(
    HEADER,
    rows,
    (i) => `${i % invalidEvery === 0 ? FIRST + i : `not-a-phone-${i}`},Person ${i},${i},2024-07-31,Hindi`,
  );
}

interface Seen {
  status: string;
  found: boolean;
  cohortId: string | undefined;
}

/**
 * Asks for the cohort, then for a caller it holds, again and again: a cohort seen `completed` must
 * answer that caller from itself — never an empty or half-loaded cohort behind a completed status.
 */
function watchLookups(baseUrl: string, cohortId: string, phone: number) {
  return record<Seen | undefined>(async () => {
    try {
      const cohort = await fetchCohort(baseUrl, cohortId);
      const answer = (await (
        await fetch(`${baseUrl}${lookupPath(String(phone))}`, { headers, signal: AbortSignal.timeout(15_000) })
      ).json()) as { found: boolean; cohort_id?: string };
      return { status: cohort.status, found: answer.found, cohortId: answer.cohort_id };
    } catch {
      return undefined; // a paused embedded server times out; what counts is what was answered
    }
  }, 50);
}

/** Lets the watcher answer at least once after the cohort completed: the last round may have begun just before. */
async function stopWatching(watcher: ReturnType<typeof watchLookups>): Promise<Array<Seen | undefined>> {
  await waitUntil(
    'the watcher to see the cohort completed',
    async () => watcher.seen().some((s) => s?.status === 'completed'),
    30_000,
    20,
  );
  return watcher.stop();
}

function assertNeverPartlyVisible(seen: Array<Seen | undefined>, cohortId: string): void {
  const answered = seen.filter((s): s is Seen => s !== undefined);
  const completed = answered.filter((s) => s.status === 'completed');
  assert.ok(completed.length > 0, 'the watcher never saw the cohort completed');
  const wrong = completed.filter((s) => !s.found || s.cohortId !== cohortId);
  assert.deepEqual(
    wrong,
    [],
    `lookups saw the completed cohort without its caller (${wrong.length} of ${completed.length})`,
  );
}

async function rejectionRows(baseUrl: string, cohortId: string): Promise<number> {
  const response = await fetch(`${baseUrl}${E2E_COHORTS}/${cohortId}/files?file_type=rejected_records`, { headers });
  assert.equal(response.status, 200);
  return (
    (await response.text())
      .replace(/^\ufeff/, '')
      .trim()
      .split('\r\n').length - 1
  );
}

const postgres = (await backends()).find((b) => b.name === 'postgres')!;

describe('a zombie attempt (paused past its lease) cannot publish over, or clear, the live one', () => {
  it('on PostgreSQL: worker 1 paused after loading its contacts, worker 2 takes over, worker 1 resumes and changes nothing', {
    skip: postgres.skip,
  }, async () => {
    const database = await createScratchDatabase('roster_zombie');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-zombie-'));
    const env = {
      ROSTER_MASTER_KEY: E2E_MASTER_KEY,
      ROSTER_DATABASE_URL: database.url,
      ROSTER_DATA_DIR: dataDir,
      ROSTER_JOB_POLL_MS: '100',
      ROSTER_JOB_LEASE_MS: '2000',
      ROSTER_JOB_BACKOFF_MS: '100',
    };
    const api = await spawnFaultServer(env, dataDir, ['serve', '--no-worker']);
    const workers: WatchedProcess[] = [];
    const startWorker = () => spawnFaultWorker(env, workers);
    const probe = postgresProbe(database.url);
    try {
      await setUpTenant(api.url, { default_country: 'IN' });
      // Three rows in four are rejected, so the first worker spends a while writing its rejection
      // file between loading its contacts and publishing: that is where it is paused.
      const rows = 160_000;
      const first = await startWorker();
      const big = await uploadSeedCohort(api.url, 'Zombie', csv(rows, 4));
      const watcher = watchLookups(api.url, big.cohort_id, FIRST);
      await waitUntil(
        'worker 1 to load its contacts',
        async () => (await probe.contacts(big.cohort_id)).rows > 0,
        120_000,
        5,
      );
      pause(first.child);
      assert.equal(
        (await fetchCohort(api.url, big.cohort_id)).status,
        'processing',
        'worker 1 published before it could be paused; the test needs a longer rejection phase',
      );
      await startWorker();
      // Worker 2 claims the job once worker 1's lease has run out, clears worker 1's contacts and loads its own.
      await waitUntil(
        'worker 2 to claim the job',
        async () => (await probe.job(big.cohort_id)).attempts === 2,
        30_000,
        50,
      );
      await waitUntil(
        'worker 2 to start loading',
        async () =>
          (await probe.progress(big.cohort_id)) > 0 ||
          (await fetchCohort(api.url, big.cohort_id)).status !== 'processing',
        60_000,
        10,
      );
      resume(first.child);
      const done = await waitForCohortOverHttp(api.url, big.cohort_id);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const seen = await stopWatching(watcher);

      const valid = rows / 4;
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.deepEqual(done.result, {
        total_records: rows,
        valid_records: valid,
        rejected_records: rows - valid,
        rejections_by_reason: [{ code: 'invalid_phone', count: rows - valid, example_row: 3 }],
      });
      assert.deepEqual(
        await probe.contacts(big.cohort_id),
        { rows: valid, phones: valid },
        'contacts differ from valid_records',
      );
      assert.equal(await rejectionRows(api.url, big.cohort_id), rows - valid, 'the rejection file is not the holder’s');
      const job = await probe.job(big.cohort_id);
      assert.deepEqual([job.status, job.attempts, job.lost_attempts], ['done', 2, 1]);
      assertNeverPartlyVisible(seen, big.cohort_id);
      assert.match(
        first.output(),
        /job lost to another attempt|lease lost/,
        'worker 1 did not notice it had lost the job',
      );
      for (const [i, worker] of workers.entries()) assertAliveAndClean(`worker ${i + 1}`, worker);
      assertAliveAndClean('api', api);
    } finally {
      killAll(workers);
      await api.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('on SQLite: an embedded server paused past its lease resumes without double-counting or losing rows', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-zombie-'));
    const env = {
      ROSTER_JOB_POLL_MS: '100',
      ROSTER_JOB_LEASE_MS: '1500',
      ROSTER_JOB_BACKOFF_MS: '100',
      ROSTER_INGEST_BATCH_SIZE: '500',
    };
    const server = await spawnFaultServer(env, dataDir);
    const probe = sqliteProbe(dataDir);
    try {
      await setUpTenant(server.url, { default_country: 'IN' });
      const rows = 90_000;
      const big = await uploadSeedCohort(server.url, 'Zombie', csv(rows, 3));
      const watcher = watchLookups(server.url, big.cohort_id, FIRST);
      await waitUntil(
        'the ingest to be under way',
        async () => (await probe.progress(big.cohort_id)) > 5_000,
        120_000,
        10,
      );
      pause(server.child);
      await new Promise((resolve) => setTimeout(resolve, 3500)); // past the 1.5 s lease
      resume(server.child);
      const done = await waitForCohortOverHttp(server.url, big.cohort_id);
      const seen = await stopWatching(watcher);

      const valid = rows / 3;
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.deepEqual(done.result, {
        total_records: rows,
        valid_records: valid,
        rejected_records: rows - valid,
        rejections_by_reason: [{ code: 'invalid_phone', count: rows - valid, example_row: 3 }],
      });
      assert.deepEqual(
        await probe.contacts(big.cohort_id),
        { rows: valid, phones: valid },
        'contacts differ from valid_records',
      );
      assert.equal(
        await rejectionRows(server.url, big.cohort_id),
        rows - valid,
        'rejection file rows differ from rejected_records',
      );
      const job = await probe.job(big.cohort_id);
      assert.deepEqual([job.status, job.attempts, job.lost_attempts], ['done', 2, 1]);
      assertNeverPartlyVisible(seen, big.cohort_id);
      assertAliveAndClean('server', server);
    } finally {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
