import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import {
  E2E_MASTER_KEY,
  fetchCohort,
  setUpTenant,
  uploadSeedCohort,
  waitForCohortOverHttp,
} from '../helpers/e2e-tenant.js';
import { createScratchDatabase } from '../helpers/test-postgres.js';
import {
  assertAliveAndClean,
  assertNoFatal,
  killAll,
  spawnFaultServer,
  spawnFaultWorker,
  type WatchedProcess,
} from './helpers/fault-processes.js';
import { cohortCsv } from './helpers/fault-tenant.js';
import { postgresProbe, sqliteProbe, waitUntil, type StoreProbe } from './helpers/store-probe.js';

const ROWS = 60_000;
const postgres = (await backends()).find((b) => b.name === 'postgres')!;

/** Waits until attempt `attempt` of the cohort's job is loading rows. */
async function attemptUnderWay(probe: StoreProbe, cohortId: string, attempt: number): Promise<void> {
  await waitUntil(
    `attempt ${attempt} to load rows`,
    async () => (await probe.job(cohortId)).attempts === attempt && (await probe.progress(cohortId)) > 1000,
    120_000,
    10,
  );
}

/** A process that exits on its own: resolves with its exit code (killed processes resolve with null). */
function exited(child: WatchedProcess['child']): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('processes that die mid-ingest', () => {
  it('SQLite: a server SIGKILLed in every attempt fails the cohort after the last one, says why, and never runs it again', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-deaths-'));
    const env = {
      ROSTER_JOB_POLL_MS: '100',
      ROSTER_JOB_LEASE_MS: '1500',
      ROSTER_JOB_MAX_ATTEMPTS: '2',
      ROSTER_INGEST_BATCH_SIZE: '500',
    };
    const probe = sqliteProbe(dataDir);
    let server = await spawnFaultServer(env, dataDir);
    try {
      await setUpTenant(server.url, { default_country: 'IN' });
      const cohort = await uploadSeedCohort(server.url, 'Crashes', cohortCsv(ROWS));
      for (let attempt = 1; attempt <= 2; attempt++) {
        await attemptUnderWay(probe, cohort.cohort_id, attempt);
        server.child.kill('SIGKILL');
        await server.exited;
        server = await spawnFaultServer(env, dataDir);
      }
      const started = Date.now();
      const failed = await waitForCohortOverHttp(server.url, cohort.cohort_id, 30_000);
      const seconds = (Date.now() - started) / 1000;
      assert.equal(failed.status, 'failed', JSON.stringify(failed));
      assert.equal(failed.error?.code, 'processing_failed');
      assert.match(failed.error?.message ?? '', /stopped during processing on each of 2 attempts/);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const job = await probe.job(cohort.cohort_id);
      assert.deepEqual([job.status, job.attempts, job.lost_attempts], ['failed', 2, 2], 'the job ran again');
      await waitUntil(
        'the failed cohort’s contacts to be removed',
        async () => (await probe.contacts(cohort.cohort_id)).rows === 0,
        10_000,
      );
      assert.equal((await fetchCohort(server.url, cohort.cohort_id)).status, 'failed');
      assertAliveAndClean('server', server);
      process.stdout.write(
        `SQLite: the cohort failed ${seconds.toFixed(1)} s after the restart that followed the last crash\n`,
      );
    } finally {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('SQLite: SIGTERM mid-ingest hands the attempt back uncounted and the next start finishes it', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-deaths-'));
    const env = { ROSTER_JOB_POLL_MS: '100', ROSTER_JOB_LEASE_MS: '5000', ROSTER_INGEST_BATCH_SIZE: '500' };
    const probe = sqliteProbe(dataDir);
    let server = await spawnFaultServer(env, dataDir);
    try {
      await setUpTenant(server.url, { default_country: 'IN' });
      const cohort = await uploadSeedCohort(server.url, 'Redeploy', cohortCsv(ROWS));
      await attemptUnderWay(probe, cohort.cohort_id, 1);
      assert.equal(await server.stop('SIGTERM'), 0, 'SIGTERM did not stop the server cleanly');
      assertNoFatal('server', server);
      const handedBack = await probe.job(cohort.cohort_id);
      assert.deepEqual([handedBack.status, handedBack.attempts], ['queued', 0], 'the interrupted attempt was counted');
      server = await spawnFaultServer(env, dataDir);
      const done = await waitForCohortOverHttp(server.url, cohort.cohort_id);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.deepEqual(done.result, {
        total_records: ROWS,
        valid_records: ROWS,
        rejected_records: 0,
        rejections_by_reason: [],
      });
      assert.deepEqual(await probe.contacts(cohort.cohort_id), { rows: ROWS, phones: ROWS });
      const job = await probe.job(cohort.cohort_id);
      assert.deepEqual([job.status, job.attempts, job.lost_attempts], ['done', 1, 0]);
      assertAliveAndClean('server', server);
    } finally {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('PostgreSQL: workers SIGKILLed in every attempt fail the cohort once, and SIGTERM hands an attempt back uncounted', {
    skip: postgres.skip,
  }, async () => {
    const database = await createScratchDatabase('roster_deaths');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-deaths-'));
    const env = {
      ROSTER_MASTER_KEY: E2E_MASTER_KEY,
      ROSTER_DATABASE_URL: database.url,
      ROSTER_DATA_DIR: dataDir,
      ROSTER_JOB_POLL_MS: '100',
      ROSTER_JOB_LEASE_MS: '3000',
      ROSTER_JOB_MAX_ATTEMPTS: '2',
    };
    const api = await spawnFaultServer(env, dataDir, ['serve', '--no-worker']);
    const probe = postgresProbe(database.url);
    const workers: WatchedProcess[] = [];
    const startWorker = () => spawnFaultWorker(env, workers);
    try {
      await setUpTenant(api.url, { default_country: 'IN' });
      // SIGTERM first: the attempt goes back uncounted, so the two SIGKILLs below use both attempts.
      const cohort = await uploadSeedCohort(api.url, 'Crashes', cohortCsv(ROWS));
      let worker = await startWorker();
      await attemptUnderWay(probe, cohort.cohort_id, 1);
      worker.child.kill('SIGTERM');
      assert.equal(await exited(worker.child), 0, `the worker did not stop cleanly:\n${worker.output().slice(-3000)}`);
      const handedBack = await probe.job(cohort.cohort_id);
      assert.deepEqual([handedBack.status, handedBack.attempts], ['queued', 0], 'SIGTERM counted the attempt');
      for (let attempt = 1; attempt <= 2; attempt++) {
        worker = await startWorker();
        await attemptUnderWay(probe, cohort.cohort_id, attempt);
        worker.child.kill('SIGKILL');
        await exited(worker.child);
      }
      // Two fresh workers race to find the exhausted job: it is failed once and never run again.
      await Promise.all([startWorker(), startWorker()]);
      const failed = await waitForCohortOverHttp(api.url, cohort.cohort_id, 30_000);
      assert.equal(failed.status, 'failed', JSON.stringify(failed));
      assert.match(failed.error?.message ?? '', /stopped during processing on each of 2 attempts/);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const job = await probe.job(cohort.cohort_id);
      assert.deepEqual([job.status, job.attempts, job.lost_attempts], ['failed', 2, 2]);
      await waitUntil(
        'the failed cohort’s contacts to be removed',
        async () => (await probe.contacts(cohort.cohort_id)).rows === 0,
        10_000,
      );
      for (const [i, w] of workers.entries()) {
        if (i >= workers.length - 2) assertAliveAndClean(`worker ${i + 1}`, w);
        else assertNoFatal(`worker ${i + 1}`, w);
      }
      assertAliveAndClean('api', api);
    } finally {
      killAll(workers);
      await api.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
