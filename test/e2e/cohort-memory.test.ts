import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { SEED_CONFIG, type CohortBody } from '../helpers/cohorts.js';
import { createScratchDatabase } from '../helpers/e2e-databases.js';
import { spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';

const MASTER = 'e2e-master-key-0123456789abcdef';
const HEADER = 'mobile,name,balance,payment_due,preferred_language';
const HEAP_MB = Number(process.env.ROSTER_TEST_HEAP_MB ?? 64);

function csvOf(rows: number, offset: number): Blob {
  const parts: string[] = [`${HEADER}\n`];
  for (let i = 0; i < rows; i++) parts.push(`${9000000000 + offset + i},Person ${i} with a longer name,${i}.50,2024-07-31,Hindi\n`);
  return new Blob(parts);
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Uploads `rows` rows and samples the server's resident memory until the cohort completes. */
async function ingestPeak(server: SpawnedServer, rows: number, offset: number): Promise<{ peak: number; cohort: CohortBody }> {
  const cohorts = '/v1/orgs/acme/workspaces/main/deployments/d/cohorts';
  const form = new FormData();
  form.append('name', `Rows ${rows}`);
  form.append('cohort_file', csvOf(rows, offset), 'users.csv');
  form.append('cohort_transformation_file', new Blob([JSON.stringify(SEED_CONFIG)]), 'config.json');
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await rssMb(server.child.pid!));
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  const accepted = (await (await fetch(`${server.url}${cohorts}/upload`, { method: 'POST', headers: { 'x-api-key': MASTER }, body: form })).json()) as CohortBody;
  let cohort: CohortBody;
  for (;;) {
    cohort = (await (await fetch(`${server.url}${cohorts}/${accepted.cohort_id}`, { headers: { 'x-api-key': MASTER } })).json()) as CohortBody;
    if (cohort.status !== 'processing') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  sampling = false;
  await sampler;
  return { peak, cohort };
}

for (const backend of await backends()) {
  describe(`ingest memory on ${backend.name}`, { skip: backend.skip }, () => {
    it('stays flat: a 100k-row file is processed within a 64 MB JavaScript heap', async () => {
      const database = backend.name === 'postgres' ? await createScratchDatabase() : undefined;
      // Holding the file or its rows would need several times this heap; V8 would abort the process.
      const server = await spawnServer({
        ROSTER_MASTER_KEY: MASTER,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${HEAP_MB}`.trim(),
        ...(database ? { ROSTER_DATABASE_URL: database.url } : {}),
      });
      try {
        const setup = async (url: string, body: unknown) =>
          assert.equal((await fetch(`${server.url}${url}`, { method: 'POST', headers: { 'x-api-key': MASTER, 'content-type': 'application/json' }, body: JSON.stringify(body) })).status, 201);
        await setup('/v1/orgs', { org_id: 'acme', name: 'Acme' });
        await setup('/v1/orgs/acme/workspaces', { workspace_id: 'main', name: 'Main' });
        await setup('/v1/orgs/acme/workspaces/main/agents', { agent_id: 'a', name: 'A', variables: [{ name: 'customer_name', required: true }, { name: 'outstanding_amount' }, { name: 'due_date' }] });
        await setup('/v1/orgs/acme/workspaces/main/deployments', { deployment_id: 'd', name: 'D', agent_id: 'a' });
        const small = await ingestPeak(server, 10_000, 0);
        const large = await ingestPeak(server, 100_000, 10_000);
        process.stdout.write(`# ${backend.name}: peak RSS ${small.peak.toFixed(0)} MB at 10k rows, ${large.peak.toFixed(0)} MB at 100k rows\n`);
        assert.deepEqual(large.cohort.result, { total_records: 100_000, valid_records: 100_000, rejected_records: 0 });
        assert.deepEqual(small.cohort.result, { total_records: 10_000, valid_records: 10_000, rejected_records: 0 });
        assert.equal(server.child.exitCode, null, 'the server died');
      } finally {
        await server.stop();
        await database?.drop();
      }
    });
  });
}
