import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { queryOnce } from '../faults/helpers/private-postgres.js';
import { backends } from '../helpers/backends.js';
import { createScratchDatabase } from '../helpers/e2e-databases.js';
import { E2E_COHORTS, E2E_MASTER_KEY as MASTER, setUpTenant } from '../helpers/e2e-tenant.js';
import { cohortForm, send, type Answer } from '../helpers/idempotent-requests.js';
import { spawnServer } from '../helpers/spawn-server.js';
import { killOnExit } from '../faults/helpers/fault-processes.js';

const postgres = (await backends()).find((b) => b.name === 'postgres')!;
const HEADER = 'mobile,name,balance,payment_due,preferred_language';
const csv = (rows: number) =>
  `${HEADER}\n${Array.from({ length: rows }, (_, i) => `98${String(33_300_000 + i)},N${i},1,2,Hindi`).join('\n')}\n`;

async function cohortsNamed(base: string, name: string): Promise<string[]> {
  const response = await fetch(`${base}${E2E_COHORTS}?limit=100`, { headers: { 'x-api-key': MASTER } });
  const page = (await response.json()) as { items: Array<{ cohort_id: string; name: string }> };
  return page.items.filter((c) => c.name === name).map((c) => c.cohort_id);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Idempotency-Key across API processes on PostgreSQL', { skip: postgres.skip }, () => {
  it('two API processes sent the same upload at once make one cohort; the other answers 409, then the same cohort', async () => {
    const database = await createScratchDatabase();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-idem-'));
    const env = { ROSTER_MASTER_KEY: MASTER, ROSTER_DATABASE_URL: database.url };
    const first = await spawnServer(env, dataDir);
    const second = await spawnServer(env, dataDir);
    try {
      await setUpTenant(first.url, { default_country: 'IN' });
      let release!: () => void;
      const hold = new Promise<void>((resolve) => {
        release = resolve;
      });
      const request = async (base: string) =>
        send(base, 'POST', `${E2E_COHORTS}/upload`, {
          key: MASTER,
          idempotencyKey: 'retry-after-timeout',
          ...(await cohortForm(csv(20_000), 'Once')),
          hold,
        });
      // Both bodies are half sent when the two processes claim the key.
      const answers = [request(first.url), request(second.url)];
      const early = await Promise.race(answers);
      assert.equal(early.status, 409, early.text);
      assert.equal(JSON.parse(early.text).error.code, 'idempotency_in_progress');
      release();
      const [a, b] = (await Promise.all(answers)) as [Answer, Answer];
      const winner = a.status === 200 ? a : b;
      const winnerUrl = winner === a ? first.url : second.url;
      const loserUrl = winner === a ? second.url : first.url;
      assert.equal(winner.status, 200, winner.text);
      const cohortId = (JSON.parse(winner.text) as { cohort_id: string }).cohort_id;
      // The client retries where it was refused: the first answer, from the other process.
      const retried = await request(loserUrl);
      assert.equal(retried.status, 200, retried.text);
      assert.equal(retried.headers['idempotent-replayed'], 'true');
      assert.equal(retried.text, winner.text);
      assert.deepEqual(await cohortsNamed(winnerUrl, 'Once'), [cohortId]);
    } finally {
      first.child.kill('SIGKILL');
      second.child.kill('SIGKILL');
    }
  });

  it('a process killed after creating the cohort, before answering: a repeat to another process answers that cohort', async () => {
    const database = await createScratchDatabase();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-idem-'));
    const env = { ROSTER_MASTER_KEY: MASTER, ROSTER_DATABASE_URL: database.url, ROSTER_IDEMPOTENCY_LEASE_MS: '1500' };
    const doomed = await spawnServer(env, dataDir);
    killOnExit(doomed.child);
    const survivor = await spawnServer(env, dataDir);
    try {
      await setUpTenant(survivor.url, { default_country: 'IN' });
      // Storing the answer takes a while: long enough to kill the process in between.
      await queryOnce(
        database.url,
        `CREATE FUNCTION slow_answers() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN IF NEW.response_status IS NOT NULL THEN PERFORM pg_sleep(2); RAISE EXCEPTION 'killed'; END IF; RETURN NEW; END $$;
         CREATE TRIGGER slow_answers BEFORE UPDATE ON idempotency_keys FOR EACH ROW EXECUTE FUNCTION slow_answers();`,
      );
      const form = await cohortForm(csv(50), 'Survives');
      const lost = send(doomed.url, 'POST', `${E2E_COHORTS}/upload`, { key: MASTER, idempotencyKey: 'k1', ...form });
      lost.catch(() => {});
      const recorded = async () =>
        (
          await queryOnce<{ recovery_body: string | null }>(
            database.url,
            `SELECT recovery_body FROM idempotency_keys WHERE idempotency_key = 'k1'`,
          )
        )[0]?.recovery_body ?? null;
      await until('the cohort and its answer recorded', async () => (await recorded()) !== null);
      doomed.child.kill('SIGKILL');
      await assert.rejects(lost);
      const created = JSON.parse((await recorded())!) as { cohort_id: string };
      await queryOnce(database.url, 'DROP TRIGGER slow_answers ON idempotency_keys; DROP FUNCTION slow_answers()');

      const repeat = async () =>
        send(survivor.url, 'POST', `${E2E_COHORTS}/upload`, {
          key: MASTER,
          idempotencyKey: 'k1',
          ...(await cohortForm(csv(50), 'Survives')),
        });
      // Until the dead holder's lease has passed, the key is still held.
      let answer = await repeat();
      while (answer.status === 409) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        answer = await repeat();
      }
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.headers['idempotent-replayed'], 'true');
      assert.equal((JSON.parse(answer.text) as { cohort_id: string }).cohort_id, created.cohort_id);
      const again = await repeat();
      assert.equal(again.text, answer.text);
      assert.deepEqual(await cohortsNamed(survivor.url, 'Survives'), [created.cohort_id]);
    } finally {
      doomed.child.kill('SIGKILL');
      survivor.child.kill('SIGKILL');
    }
  });
});
