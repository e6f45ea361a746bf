import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { backends } from '../helpers/backends.js';
import { SEED_CONFIG, type CohortBody } from '../helpers/cohorts.js';
import { createScratchDatabase } from '../helpers/e2e-databases.js';
import { spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';

const MASTER = 'e2e-master-key-0123456789abcdef';
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

async function api(server: SpawnedServer, method: string, url: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.url}${url}`, {
    method,
    headers: { 'x-api-key': MASTER, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await response.json()) as Record<string, unknown>;
  assert.ok(response.ok, `${method} ${url} → ${response.status} ${JSON.stringify(json)}`);
  return json;
}

for (const backend of await backends()) {
  describe(`a killed server resumes ingest on ${backend.name}`, { skip: backend.skip }, () => {
    it('ends completed with exact counts after SIGKILL mid-ingest and a restart', async () => {
      const database = backend.name === 'postgres' ? await createScratchDatabase() : undefined;
      const env: Record<string, string> = {
        ROSTER_MASTER_KEY: MASTER,
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
        await api(server, 'POST', '/v1/orgs', { org_id: 'acme', name: 'Acme' });
        await api(server, 'POST', '/v1/orgs/acme/workspaces', { workspace_id: 'main', name: 'Main' });
        await api(server, 'POST', '/v1/orgs/acme/workspaces/main/agents', { agent_id: 'a', name: 'A', variables: [{ name: 'customer_name', required: true }, { name: 'outstanding_amount' }, { name: 'due_date' }] });
        await api(server, 'POST', '/v1/orgs/acme/workspaces/main/deployments', { deployment_id: 'd', name: 'D', agent_id: 'a' });
        const cohorts = '/v1/orgs/acme/workspaces/main/deployments/d/cohorts';
        const form = new FormData();
        form.append('name', 'Big');
        form.append('cohort_file', new Blob([bigCsv()]), 'big.csv');
        form.append('cohort_transformation_file', new Blob([JSON.stringify(SEED_CONFIG)]), 'config.json');
        const accepted = (await (await fetch(`${server.url}${cohorts}/upload`, { method: 'POST', headers: { 'x-api-key': MASTER }, body: form })).json()) as CohortBody;
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
        let cohort: CohortBody;
        for (;;) {
          cohort = (await api(server, 'GET', `${cohorts}/${accepted.cohort_id}`)) as unknown as CohortBody;
          if (cohort.status !== 'processing') break;
          assert.ok(Date.now() < deadline + 60_000, 'cohort stuck in processing after restart');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const duplicates = ROWS / 20;
        assert.equal(cohort.status, 'completed', JSON.stringify(cohort));
        assert.deepEqual(cohort.result, { total_records: ROWS, valid_records: ROWS - duplicates, rejected_records: duplicates });
        assert.equal(await countContacts(), ROWS - duplicates, 'contacts duplicated or lost across the restart');
        const last = (await api(server, 'GET', `/v1/orgs/acme/workspaces/main/deployments/d/callers/${9800000000 + ROWS - 2}?country=IN`)) as { found: boolean; app_variables: { customer_name: string } };
        assert.equal(last.found, true);
        assert.equal(last.app_variables.customer_name, `Person ${ROWS - 2}`);
      } finally {
        await server.stop();
        await database?.drop();
      }
    });
  });
}
