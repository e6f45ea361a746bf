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

/** 60k rows; every 20th repeats an earlier phone so the counts are not trivial. */
function bigCsv(): string {
  const lines = [HEADER];
  for (let i = 0; i < ROWS; i++) {
    const phone = i % 20 === 19 ? 9800000000 + i - 1 : 9800000000 + i;
    lines.push(`${phone},Person ${i},${i},2024-07-31,Hindi`);
  }
  return `${lines.join('\n')}\n`;
}

for (const backend of await backends()) {
  describe(`a killed server resumes ingest on ${backend.name}`, { skip: backend.skip }, () => {
    it('ends completed with exact counts after SIGKILL mid-ingest and a restart', async () => {
      const database = backend.name === 'postgres' ? await createScratchDatabase() : undefined;
      const env: Record<string, string> = {
        ROSTER_MASTER_KEY: E2E_MASTER_KEY,
        ROSTER_JOB_LEASE_MS: '1500',
        ROSTER_JOB_POLL_MS: '100',
        ROSTER_INGEST_BATCH_SIZE: '500',
        ...(database ? { ROSTER_DATABASE_URL: database.url } : {}),
      };
      let server = await spawnServer(env);
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
        const accepted = await uploadSeedCohort(server.url, 'Big', bigCsv());
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

        server = await spawnServer(env, server.dataDir);
        const cohort = await waitForCohortOverHttp(server.url, accepted.cohort_id, 90_000);
        const duplicates = ROWS / 20;
        assert.equal(cohort.status, 'completed', JSON.stringify(cohort));
        assert.deepEqual(cohort.result, {
          total_records: ROWS,
          valid_records: ROWS - duplicates,
          rejected_records: duplicates,
          rejections_by_reason: [{ code: 'duplicate_phone', count: duplicates, example_row: 21 }],
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
