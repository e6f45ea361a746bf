import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { createScratchDatabase } from '../helpers/e2e-databases.js';
import {
  E2E_COHORTS,
  E2E_DEPLOYMENT,
  E2E_MASTER_KEY as MASTER,
  fetchCohort,
  setUpTenant,
  uploadSeedCohort,
  waitForCohortOverHttp,
} from '../helpers/e2e-tenant.js';
import { spawnCommand, spawnServer } from '../helpers/spawn-server.js';

const HEADER = 'mobile,name,balance,payment_due,preferred_language';
const postgres = (await backends()).find((b) => b.name === 'postgres')!;

describe('separate API and worker processes', () => {
  it('refuse to split on embedded SQLite, where one process must do both', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-split-'));
    const worker = await spawnCommand(
      ['worker'],
      { ROSTER_DATA_DIR: dataDir, ROSTER_MASTER_KEY: MASTER, ROSTER_DATABASE_URL: '' },
      /needs PostgreSQL/,
    );
    assert.equal(await worker.exited, 2);
    const api = await spawnCommand(
      ['serve', '--no-worker'],
      { ROSTER_DATA_DIR: dataDir, ROSTER_MASTER_KEY: MASTER, ROSTER_DATABASE_URL: '' },
      /needs PostgreSQL/,
    );
    assert.equal(await api.exited, 2);
  });

  it('two API processes without workers and two worker processes ingest concurrent uploads; the later-accepted wins', {
    skip: postgres.skip,
  }, async () => {
    const database = await createScratchDatabase();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-split-'));
    const env = { ROSTER_MASTER_KEY: MASTER, ROSTER_DATABASE_URL: database.url, ROSTER_JOB_POLL_MS: '100' };
    const first = await spawnServer(env, dataDir, ['serve', '--no-worker']);
    const second = await spawnServer(env, dataDir, ['serve', '--no-worker']);
    const workers: Array<Awaited<ReturnType<typeof spawnCommand>>> = [];
    try {
      await setUpTenant(first.url, { default_country: 'IN' });
      const upload = (base: string, name: string) =>
        uploadSeedCohort(base, name, `${HEADER}\n9833300001,${name},1,2,Hindi\n9833300002,${name},1,2,Hindi\n`);
      const accepted = await Promise.all(
        ['One', 'Two', 'Three', 'Four'].map((name, i) => upload(i % 2 === 0 ? first.url : second.url, name)),
      );
      // Nothing processes them until a worker starts: the API processes run no jobs.
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const cohort of accepted) {
        assert.equal((await fetchCohort(second.url, cohort.cohort_id)).status, 'processing');
      }
      for (let i = 0; i < 2; i++)
        workers.push(
          await spawnCommand(
            ['worker', '--metrics-port', '0'],
            { ...env, ROSTER_DATA_DIR: dataDir },
            /processing jobs/,
          ),
        );
      for (const cohort of accepted) {
        const state = await waitForCohortOverHttp(first.url, cohort.cohort_id);
        assert.equal(state.status, 'completed', JSON.stringify(state));
      }
      const newest = (
        (await (await fetch(`${second.url}${E2E_COHORTS}?limit=1`, { headers: { 'x-api-key': MASTER } })).json()) as {
          items: Array<{ cohort_id: string; name: string }>;
        }
      ).items[0]!;
      for (const base of [first.url, second.url]) {
        const caller = (await (
          await fetch(`${base}${E2E_DEPLOYMENT}/callers/9833300001`, { headers: { 'x-api-key': MASTER } })
        ).json()) as { cohort_id: string };
        assert.equal(caller.cohort_id, newest.cohort_id);
      }
      // Each worker serves its own metrics: together they count every row ingested (4 cohorts × 2).
      let ingested = 0;
      for (const worker of workers) {
        const metricsUrl = /"metrics":"(http:\/\/[^"]+)"/.exec(worker.output())?.[1];
        assert.ok(metricsUrl, worker.output());
        assert.equal((await fetch(`${metricsUrl}/readyz`)).status, 200);
        const text = await (await fetch(`${metricsUrl}/metrics`)).text();
        assert.match(text, /^roster_jobs\{status="done"\} 4$/m);
        ingested += Number(/^roster_cohort_rows_ingested_total\{result="valid"\} (\d+)$/m.exec(text)?.[1]);
      }
      assert.equal(ingested, 8);
      for (const worker of workers) {
        worker.child.kill('SIGTERM');
        assert.equal(await worker.exited, 0);
      }
    } finally {
      for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
      await first.stop();
      await second.stop();
      await database.drop();
    }
  });
});
