import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { csvText } from '../helpers/cohorts.js';
import { backends } from '../helpers/backends.js';
import { createScratchDatabase } from '../helpers/e2e-databases.js';
import {
  E2E_DEPLOYMENT,
  E2E_MASTER_KEY as MASTER,
  setUpTenant,
  uploadSeedCohort,
  waitForCohortOverHttp,
} from '../helpers/e2e-tenant.js';
import { spawnCommand, spawnServer } from '../helpers/spawn-server.js';

const HEADER = 'mobile,name,balance,payment_due,preferred_language';
const ROWS = 60_000;
const FIRST = 9700000000;
const postgres = (await backends()).find((b) => b.name === 'postgres')!;

describe('worker crashes during a large ingest', () => {
  it('a 60k-row cohort survives repeated SIGKILLs of its worker, and lookups never see it half-published', {
    skip: postgres.skip,
  }, async () => {
    const database = await createScratchDatabase();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-crash-'));
    const env = {
      ROSTER_MASTER_KEY: MASTER,
      ROSTER_DATABASE_URL: database.url,
      ROSTER_DATA_DIR: dataDir,
      ROSTER_JOB_POLL_MS: '100',
      // Long enough that a healthy worker on a loaded CI machine keeps its lease: an expired lease is
      // never renewed, so a starved heartbeat would cost attempts the three kills need.
      ROSTER_JOB_LEASE_MS: '3000',
    };
    const api = await spawnServer(env, dataDir, ['serve', '--no-worker']);
    const workers: Array<Awaited<ReturnType<typeof spawnCommand>>> = [];
    const headers = { 'x-api-key': MASTER };
    // Stops the lookup loop; on a failure it must stop before the server does, or its fetch fails too.
    let stopWatching = async () => undefined as unknown;
    try {
      await setUpTenant(api.url, { default_country: 'IN' });
      const upload = (name: string, csv: string | Blob) => uploadSeedCohort(api.url, name, csv);
      const waitFor = (id: string) => waitForCohortOverHttp(api.url, id);
      const firstPhone = FIRST;
      const lastPhone = FIRST + ROWS - 1;
      workers.push(await spawnCommand(['worker'], env, /processing jobs/));
      // An older cohort holds the big file's first and last phones.
      const old = await upload(
        'Old',
        new Blob([`${HEADER}\n${firstPhone},Old,1,2,Hindi\n${lastPhone},Old,1,2,Hindi\n`]),
      );
      assert.equal((await waitFor(old.cohort_id)).status, 'completed');

      const big = await upload(
        'New',
        csvText(HEADER, ROWS, (i) => `${FIRST + i},New ${i},${i},2024-07-31,Hindi`),
      );

      // Lookups run all along: the first phone is asked before the last, so seeing the new cohort
      // for the first and the old one for the last would mean a partly visible cohort.
      let looking = true;
      let checks = 0;
      const lookup = async (phone: number) =>
        (
          (await (await fetch(`${api.url}${E2E_DEPLOYMENT}/callers/${phone}`, { headers })).json()) as {
            cohort_id: string;
          }
        ).cohort_id;
      const watcher = (async () => {
        while (looking) {
          const first = await lookup(firstPhone);
          const last = await lookup(lastPhone);
          assert.ok(
            !(first === big.cohort_id && last === old.cohort_id),
            'a lookup saw the new cohort partly published',
          );
          checks++;
          // A pause between pairs: a loop without one would take a core from the ingest it watches.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      stopWatching = async () => {
        looking = false;
        await watcher;
      };

      // Kill the worker three times at random moments while it ingests, then let a fresh one finish.
      const db = new pg.Client({ connectionString: database.url });
      await db.connect();
      try {
        for (let kill = 0; kill < 3; kill++) {
          // The rows stream into a staging table private to the worker's connection, so progress is
          // read from PostgreSQL's COPY progress view: the kill lands mid-load, at a random row.
          const deadline = Date.now() + 60_000;
          const target = 3_000 + Math.floor(Math.random() * 45_000);
          for (;;) {
            const { rows } = await db.query<{ n: string }>(
              'select coalesce(max(tuples_processed), 0) as n from pg_stat_progress_copy where datname = current_database()',
            );
            if (Number(rows[0]!.n) >= target) break;
            assert.ok(Date.now() < deadline, 'the worker made no progress');
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          const worker = workers.at(-1)!;
          worker.child.kill('SIGKILL');
          await worker.exited;
          workers.push(await spawnCommand(['worker'], env, /processing jobs/));
        }
        const done = await waitFor(big.cohort_id);
        assert.equal(done.status, 'completed', JSON.stringify(done));
        assert.deepEqual(done.result, {
          total_records: ROWS,
          valid_records: ROWS,
          rejected_records: 0,
          rejections_by_reason: [],
        });
        const { rows } = await db.query<{ n: string; phones: string }>(
          'select count(*) as n, count(distinct phone) as phones from contacts c join cohorts h on h.seq = c.cohort_seq where h.cohort_id = $1',
          [big.cohort_id],
        );
        assert.equal(Number(rows[0]!.n), ROWS, 'contacts lost or duplicated');
        assert.equal(Number(rows[0]!.phones), ROWS);
      } finally {
        await db.end();
      }
      await stopWatching();
      assert.ok(checks > 10, `only ${checks} lookup pairs ran`);
      assert.equal(await lookup(lastPhone), big.cohort_id);
    } finally {
      await stopWatching().catch(() => undefined);
      for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
      await api.stop();
      await database.drop();
    }
  });
});
