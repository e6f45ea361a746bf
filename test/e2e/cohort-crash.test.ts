import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { backends } from '../helpers/backends.js';
import { createScratchDatabase } from '../helpers/e2e-databases.js';
import {
  E2E_DEPLOYMENT,
  E2E_MASTER_KEY,
  setUpTenant,
  uploadSeedCohort,
  waitForCohortOverHttp,
} from '../helpers/e2e-tenant.js';
import { spawnServer } from '../helpers/spawn-server.js';

const ROWS = 60_000;
const HEADER = 'mobile,name,balance,payment_due,preferred_language';

/**
 * 60k rows; every 20th repeats an earlier phone so the counts are not trivial. Shuffled (a fixed
 * order), the rows stop coming in phone order at once, so on SQLite the load stages them and writes
 * its contacts at the end, 1000 phones a transaction: the kill then lands between those moves.
 */
function bigCsv(shuffled: boolean): { csv: string; firstRepeat: number } {
  const rows: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    const phone = i % 20 === 19 ? 9800000000 + i - 1 : 9800000000 + i;
    rows.push(`${phone},Person ${i},${i},2024-07-31,Hindi`);
  }
  let state = 20241205;
  for (let i = rows.length - 1; shuffled && i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = Math.floor((state / 4_294_967_296) * (i + 1));
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  // The spreadsheet row (the header is row 1) of the first row whose phone came before.
  const seen = new Set<string>();
  const firstRepeat = rows.findIndex((row) => {
    const phone = row.split(',')[0]!;
    if (seen.has(phone)) return true;
    seen.add(phone);
    return false;
  });
  return { csv: `${[HEADER, ...rows].join('\n')}\n`, firstRepeat: firstRepeat + 2 };
}

/** The file orders to run: shuffled only on SQLite, whose load takes another path for it. */
const orders = (backend: string) => (backend === 'sqlite' ? [false, true] : [false]);

for (const backend of await backends()) {
  describe(`a killed server resumes ingest on ${backend.name}`, { skip: backend.skip }, () => {
    for (const shuffled of orders(backend.name))
      it(`ends completed with exact counts after SIGKILL mid-ingest and a restart${shuffled ? ' (rows not in phone order)' : ''}`, async () => {
        const database = backend.name === 'postgres' ? await createScratchDatabase() : undefined;
        const env: Record<string, string> = {
          ROSTER_MASTER_KEY: E2E_MASTER_KEY,
          ROSTER_JOB_LEASE_MS: '1500',
          ROSTER_JOB_POLL_MS: '100',
          ROSTER_INGEST_BATCH_SIZE: '500',
          ...(database ? { ROSTER_DATABASE_URL: database.url } : {}),
        };
        let server = await spawnServer(env);
        const file = bigCsv(shuffled);
        const countContacts = async (): Promise<number> => {
          if (database) {
            const client = new pg.Client({ connectionString: database.url });
            await client.connect();
            const result = await client.query<{ n: string }>('select count(*) as n from contacts');
            await client.end();
            return Number(result.rows[0]!.n);
          }
          const db = new SqliteDatabase(path.join(server.dataDir, 'roster.sqlite'), { readonly: true });
          try {
            return (db.prepare('select count(*) as n from contacts').get() as { n: number }).n;
          } finally {
            db.close();
          }
        };
        try {
          await setUpTenant(server.url);
          const accepted = await uploadSeedCohort(server.url, 'Big', file.csv);
          assert.equal(accepted.status, 'processing');

          // Kill once part of the file is in the database but the cohort is not yet published.
          const deadline = Date.now() + 30_000;
          let written = 0;
          while (written < 2000) {
            assert.ok(Date.now() < deadline, 'ingest never started');
            written = await countContacts();
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          server.child.kill('SIGKILL');
          await server.exited;
          const mid = await countContacts();
          assert.ok(mid > 0 && mid < ROWS, `killed at ${mid} contacts: not mid-ingest`);
          process.stdout.write(`${backend.name}${shuffled ? ', shuffled' : ''}: killed at ${mid} contacts\n`);
          if (!database) {
            const db = new SqliteDatabase(path.join(server.dataDir, 'roster.sqlite'), { readonly: true });
            const status = db.prepare('select status from cohorts where cohort_id = ?').pluck().get(accepted.cohort_id);
            db.close();
            assert.equal(status, 'processing', `killed at ${mid} contacts, after the cohort was published`);
          }

          server = await spawnServer(env, server.dataDir);
          const cohort = await waitForCohortOverHttp(server.url, accepted.cohort_id, 90_000);
          const duplicates = ROWS / 20;
          assert.equal(cohort.status, 'completed', JSON.stringify(cohort));
          assert.deepEqual(cohort.result, {
            total_records: ROWS,
            valid_records: ROWS - duplicates,
            rejected_records: duplicates,
            rejections_by_reason: [{ code: 'duplicate_phone', count: duplicates, example_row: file.firstRepeat }],
          });
          assert.equal(await countContacts(), ROWS - duplicates, 'contacts duplicated or lost across the restart');
          const response = await fetch(`${server.url}${E2E_DEPLOYMENT}/callers/${9800000000 + ROWS - 2}?country=IN`, {
            headers: { 'x-api-key': E2E_MASTER_KEY },
          });
          const last = (await response.json()) as { found: boolean; app_variables: { customer_name: string } };
          assert.equal(last.found, true);
          assert.equal(last.app_variables.customer_name, `Person ${ROWS - 2}`);
        } finally {
          await server.stop();
          await database?.drop();
        }
      });
  });
}
