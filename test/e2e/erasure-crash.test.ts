import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { createScratchDatabase } from '../helpers/e2e-databases.js';
import {
  E2E_DEPLOYMENT,
  E2E_MASTER_KEY,
  e2eCall,
  setUpTenant,
  uploadSeedCohort,
  waitForCohortOverHttp,
} from '../helpers/e2e-tenant.js';
import { spawnServer } from '../helpers/spawn-server.js';

const COHORTS = 4;
const ROWS = 10_000;
const HEADER = 'mobile,name,balance,payment_due,preferred_language';
const TARGET = '+919876500001';
const TARGET_DIGITS = '9876500001';
const WS = '/v1/orgs/acme/workspaces/main';

/** A cohort's file: the target once as a contact (national form) and once refused (no name), among ROWS others. */
function cohortCsv(n: number): string {
  const rows: string[] = [];
  for (let i = 0; i < ROWS; i++) rows.push(`${9000000000 + n * 100_000 + i},Person ${i},${i},2024-07-31,Hindi`);
  rows.splice(17, 0, '09876500001,Asha,1,2024-07-31,Hindi');
  rows.splice(ROWS - 5, 0, '+91 98765-00001,,1,2024-07-31,Hindi');
  return `${[HEADER, ...rows].join('\n')}\n`;
}

interface Erasure {
  status: string;
  removed: Record<string, number>;
  files_rewritten: number;
  files_deleted: number;
}

async function filesUnder(dir: string): Promise<string[]> {
  const names = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  const files: string[] = [];
  for (const name of names) {
    const full = path.join(dir, name);
    if (
      await readFile(full).then(
        () => true,
        () => false,
      )
    )
      files.push(full);
  }
  return files;
}

for (const backend of await backends()) {
  describe(`a killed server resumes an erasure on ${backend.name}`, { skip: backend.skip }, () => {
    it('SIGKILL while files are being rewritten: after a restart every file is rewritten once, no copy is left', async () => {
      const database = backend.name === 'postgres' ? await createScratchDatabase() : undefined;
      const env: Record<string, string> = {
        ROSTER_MASTER_KEY: E2E_MASTER_KEY,
        ROSTER_JOB_LEASE_MS: '1500',
        ROSTER_JOB_POLL_MS: '100',
        ...(database ? { ROSTER_DATABASE_URL: database.url } : {}),
      };
      let server = await spawnServer(env);
      // The server changes at the restart: each request goes to the one running then.
      const call = (method: string, path: string, body?: unknown) => e2eCall(server.url, method, path, body);
      try {
        await setUpTenant(server.url, { default_country: 'IN' });
        const ids: string[] = [];
        for (let n = 0; n < COHORTS; n++)
          ids.push((await uploadSeedCohort(server.url, `C${n}`, cohortCsv(n))).cohort_id);
        for (const id of ids) assert.equal((await waitForCohortOverHttp(server.url, id)).status, 'completed');

        const answer = await call('POST', `${WS}/erasure`, { phone_numbers: [TARGET] });
        assert.equal(answer.status, 202, JSON.stringify(answer.body));
        assert.equal((answer.body.removed as Record<string, number>).contacts, COHORTS);
        const erasureUrl = `${WS}/erasure/${answer.body.erasure_id as string}`;
        // Killed once some cohorts' files are swapped in and others are not.
        const deadline = Date.now() + 60_000;
        let seen: Erasure;
        for (;;) {
          seen = (await call('GET', erasureUrl)).body as unknown as Erasure;
          if (seen.files_rewritten > 0) break;
          assert.ok(Date.now() < deadline, 'the rewrite did not start');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        server.child.kill('SIGKILL');
        await server.exited;
        assert.equal(seen.status, 'processing', `killed mid-way: ${JSON.stringify(seen)}`);
        assert.ok(seen.files_rewritten < 2 * COHORTS, JSON.stringify(seen));

        server = await spawnServer(env, server.dataDir);
        let done: Erasure;
        for (;;) {
          done = (await call('GET', erasureUrl)).body as unknown as Erasure;
          if (done.status !== 'processing') break;
          assert.ok(Date.now() < deadline + 60_000, `still processing: ${JSON.stringify(done)}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.equal(done.status, 'completed', JSON.stringify(done));
        // Each file counted once, though some were read before the kill and again after.
        assert.equal(done.removed.cohort_file_rows, 2 * COHORTS);
        assert.equal(done.removed.rejected_file_rows, COHORTS);
        assert.equal(done.files_rewritten, 2 * COHORTS);
        assert.equal(done.files_deleted, 0);

        const lookup = await call('GET', `${E2E_DEPLOYMENT}/callers/${encodeURIComponent(TARGET)}`);
        assert.equal(lookup.body.found, false);
        // Every file on disk, stored or half-written: none holds the number, and each cohort keeps
        // exactly its two current files.
        for (const file of [
          ...(await filesUnder(path.join(server.dataDir, 'blobs'))),
          ...(await filesUnder(path.join(server.dataDir, 'blobs-tmp'))),
        ]) {
          const lines = (await readFile(file, 'utf8'))
            .split(/\r?\n/)
            .filter((line) => line.replace(/\D/g, '').includes(TARGET_DIGITS));
          assert.deepEqual(lines, [], file);
        }
        for (const id of ids) {
          const stored = (await filesUnder(path.join(server.dataDir, 'blobs', 'cohorts', id))).map((f) =>
            path.relative(path.join(server.dataDir, 'blobs', 'cohorts', id), f),
          );
          assert.equal(stored.length, 2, `${id}: ${stored.join(', ')}`);
          assert.ok(
            stored.every((name) => name.startsWith('erased-')),
            stored.join(', '),
          );
          const source = await fetch(`${server.url}${E2E_DEPLOYMENT}/cohorts/${id}/files?file_type=cohort`, {
            headers: { 'x-api-key': E2E_MASTER_KEY },
          });
          const text = await source.text();
          assert.equal(text.trim().split(/\r?\n/).length, ROWS + 1, 'the header and every other row');
        }
      } finally {
        await server.stop('SIGKILL');
        await database?.drop();
      }
    });
  });
}
