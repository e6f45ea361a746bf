import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CohortDeps } from '../../src/services/cohorts/cohort-deps.js';
import { applyDueRetention } from '../../src/services/cohorts/cohort-retention.js';
import { backends } from '../helpers/backends.js';
import { SEED_CONFIG, uploadCohort, waitForCohort } from '../helpers/cohorts.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/webhook-receiver.js';

const WS = '/v1/orgs/acme/workspaces/main';
const HEADER = 'mobile,name,balance,payment_due,preferred_language';
const HOUR_MS = 3_600_000;

interface Deployment {
  cohort_retention_days: number | null;
  cohort_retention_strict: boolean;
  cohort_retention_last_run_at: string | null;
  cohort_retention_next_run_at: string | null;
}

for (const backend of await backends()) {
  describe(`cohort retention on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;

    before(async () => {
      // The runner sweeps every 20 polls: once a second here.
      t = await createTestApp(backend, { ROSTER_JOB_POLL_MS: '50' });
      acme = await seedTenant(t, 'acme');
      base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    });
    after(async () => {
      await t?.close();
    });

    async function deploy(id: string): Promise<string> {
      const created = await t.call('POST', `${WS}/deployments`, {
        body: { deployment_id: id, name: id, agent_id: 'collections', default_country: 'IN' },
      });
      assert.equal(created.statusCode, 201, created.body);
      return `${WS}/deployments/${id}`;
    }
    async function upload(deployment: string, name: string, phones: string[]): Promise<string> {
      const response = await uploadCohort(base, `${deployment}/cohorts/upload`, acme.apiKey, {
        name,
        csv: `${HEADER}\n${phones.map((p) => `${p},N,1,01/01/2026,Hindi`).join('\n')}\n`,
        config: SEED_CONFIG,
      });
      const body = (await response.json()) as { cohort_id: string };
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.equal(
        (await waitForCohort(t, `${deployment}/cohorts/${body.cohort_id}`, acme.apiKey)).status,
        'completed',
      );
      return body.cohort_id;
    }
    /** Makes cohorts look as old as `createdAt`: the retention run compares creation times. */
    async function age(cohortIds: string[], createdAt: string): Promise<void> {
      await t.backing.storage.db
        .updateTable('cohorts')
        .set({ created_at: createdAt })
        .where('cohort_id', 'in', cohortIds)
        .execute();
    }
    const listed = async (deployment: string) =>
      (
        (await t.call('GET', `${deployment}/cohorts?limit=100`, { key: acme.apiKey })).json() as {
          items: Array<{ cohort_id: string }>;
        }
      ).items
        .map((c) => c.cohort_id)
        .sort();
    const lookup = async (deployment: string, phone: string) =>
      (await t.call('GET', `${deployment}/callers/${phone}`, { key: acme.apiKey })).json() as {
        found: boolean;
        cohort_id?: string;
      };
    const policy = (deployment: string, body: unknown) => t.call('PATCH', deployment, { body });

    it('the scheduled run deletes old cohorts no phone needs any more, with their files, and keeps the newest holders', async () => {
      const deployment = await deploy('kept');
      const shadowed = await upload(deployment, 'Shadowed', ['9876500001', '9876500002']);
      const holder = await upload(deployment, 'Holder', ['9876500001', '9876500002', '9876500003']);
      const recent = await upload(deployment, 'Recent', ['9876500003', '9876500004']);
      await age([shadowed, holder], new Date(Date.now() - 40 * 24 * HOUR_MS).toISOString());
      const before = await lookup(deployment, '9876500001');
      assert.equal(before.cohort_id, holder);
      assert.ok((await t.storedCohortIds()).includes(shadowed));

      const set = await policy(deployment, { cohort_retention_days: 30 });
      assert.equal(set.statusCode, 200, set.body);
      const shown = set.json() as Deployment;
      assert.equal(shown.cohort_retention_days, 30);
      assert.equal(shown.cohort_retention_strict, false);
      assert.ok(shown.cohort_retention_next_run_at !== null, 'a new policy is due at once');

      const ran = await until('the retention run', async () => {
        const d = (await t.call('GET', deployment, { key: acme.apiKey })).json() as Deployment;
        return d.cohort_retention_last_run_at !== null ? d : undefined;
      });
      assert.equal(
        Date.parse(ran.cohort_retention_next_run_at!) - Date.parse(ran.cohort_retention_last_run_at!),
        t.config.retention.intervalMs,
        'the next run is one interval after the last',
      );
      assert.deepEqual(await listed(deployment), [holder, recent].sort());
      assert.equal((await t.storedCohortIds()).includes(shadowed), false, "the deleted cohort's files are gone");
      // Every lookup answers as before.
      for (const [phone, cohort] of [
        ['9876500001', holder],
        ['9876500002', holder],
        ['9876500003', recent],
        ['9876500004', recent],
      ] as const)
        assert.equal((await lookup(deployment, phone)).cohort_id, cohort, phone);
    });

    it('on a fixed clock: strict deletes the newest holders too, a run is not repeated before it is due, null removes the policy', async () => {
      const deployment = await deploy('strict');
      const old = await upload(deployment, 'Old', ['9876500011']);
      const young = await upload(deployment, 'Young', ['9876500012']);
      const clock = new Date('2030-06-01T00:00:00.000Z');
      await age([old], '2030-04-01T00:00:00.000Z');
      await age([young], '2030-05-25T00:00:00.000Z');
      // The runner would run the policy on the real clock: this test runs it on its own clock.
      await t.jobs.stop();
      try {
        assert.equal(
          (await policy(deployment, { cohort_retention_days: 30, cohort_retention_strict: true })).statusCode,
          200,
        );
        const deps: CohortDeps = {
          db: t.backing.storage.db,
          capabilities: t.backing.storage.capabilities,
          blobs: t.blobs,
          config: t.config,
          contacts: t.backing.storage.contacts,
          callers: t.backing.storage.callers,
          notifyWorkers: () => undefined,
        };
        const runs = await applyDueRetention(deps, clock, HOUR_MS);
        const mine = runs.find((r) => r.deploymentId === 'strict');
        assert.deepEqual(mine, { deploymentId: 'strict', deleted: [old], kept: [] });
        assert.equal((await lookup(deployment, '9876500011')).found, false, 'strict: the newest holder went too');
        assert.equal((await lookup(deployment, '9876500012')).cohort_id, young);
        const shown = (await t.call('GET', deployment, { key: acme.apiKey })).json() as Deployment;
        assert.equal(shown.cohort_retention_last_run_at, clock.toISOString());
        assert.equal(shown.cohort_retention_next_run_at, new Date(clock.getTime() + HOUR_MS).toISOString());
        // Not due again until then.
        const again = await applyDueRetention(deps, new Date(clock.getTime() + HOUR_MS - 1), HOUR_MS);
        assert.equal(
          again.find((r) => r.deploymentId === 'strict'),
          undefined,
        );
        const off = (await policy(deployment, { cohort_retention_days: null })).json() as Deployment;
        assert.equal(off.cohort_retention_days, null);
        assert.equal(off.cohort_retention_next_run_at, null);
        const later = await applyDueRetention(deps, new Date(clock.getTime() + 100 * 24 * HOUR_MS), HOUR_MS);
        assert.equal(
          later.find((r) => r.deploymentId === 'strict'),
          undefined,
        );
        assert.deepEqual(await listed(deployment), [young]);
      } finally {
        await t.jobs.start();
      }
    });

    it('only the master key sets a policy, within 1–3650 days', async () => {
      const deployment = `${WS}/deployments/inbound`;
      assert.equal(
        (await t.call('PATCH', deployment, { key: acme.apiKey, body: { cohort_retention_days: 5 } })).statusCode,
        403,
      );
      for (const body of [{ cohort_retention_days: 0 }, { cohort_retention_days: 4000 }, {}, { name: 'x' }]) {
        const answer = await policy(deployment, body);
        assert.equal(answer.statusCode, 422, `${JSON.stringify(body)}: ${answer.body}`);
      }
      const created = await t.call('POST', `${WS}/deployments`, {
        body: { deployment_id: 'born-with-policy', name: 'p', agent_id: 'collections', cohort_retention_days: 7 },
      });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal((created.json() as Deployment).cohort_retention_days, 7);
    });
  });
}
