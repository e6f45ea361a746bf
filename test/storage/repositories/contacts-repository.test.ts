import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { backends, type TestStorage } from '../../helpers/backends.js';

const NOW = '2026-12-05T12:00:00.000Z';
const SCOPE = { orgId: 'o', workspaceId: 'w', deploymentId: 'd' };
const PHONE = '+919876543210';

for (const backend of await backends()) {
  describe(`caller read (Storage.callers) on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestStorage;
    before(async () => {
      t = await backend.open();
      const db = t.storage.db;
      await sql`insert into orgs (org_id, name, created_at) values ('o', 'O', ${NOW})`.execute(db);
      await sql`insert into workspaces (org_id, workspace_id, name, created_at) values ('o', 'w', 'W', ${NOW})`.execute(
        db,
      );
      await sql`insert into agents (org_id, workspace_id, agent_id, name, variables, languages, states, created_at)
        values ('o', 'w', 'a', 'A', '[]', '[]', '[]', ${NOW})`.execute(db);
      await sql`insert into deployments (org_id, workspace_id, deployment_id, name, agent_id, default_country, created_at)
        values ('o', 'w', 'd', 'D', 'a', 'IN', ${NOW})`.execute(db);
      for (const [id, status] of [
        ['older', 'completed'],
        ['newer', 'processing'],
      ] as const)
        await sql`insert into cohorts (cohort_id, org_id, workspace_id, deployment_id, name, status, source_type,
          created_by, created_at, updated_at, transformation)
          values (${id}, 'o', 'w', 'd', ${id}, ${status}, 'file_upload', 'x', ${NOW}, ${NOW}, '{}')`.execute(db);
      await sql`insert into contacts (cohort_seq, row_number, phone, user_identifier, app_variables, app_overrides)
        select seq, 2, ${PHONE}, cohort_id, ${JSON.stringify({ customer_name: 'Asha' })}, '{}' from cohorts`.execute(
        db,
      );
    });
    after(async () => {
      await t?.cleanup();
    });

    const cohortFound = async () =>
      (await t.storage.callers.findDeploymentWithContact(SCOPE, PHONE))?.match?.cohort_id ?? null;

    it('answers the newest completed cohort holding the phone, the default country, and nothing for others', async () => {
      const found = await t.storage.callers.findDeploymentWithContact(SCOPE, PHONE);
      assert.equal(found?.defaultCountry, 'IN');
      assert.equal(found?.match?.cohort_id, 'older');
      assert.deepEqual(found?.match?.app_variables, { customer_name: 'Asha' });
      assert.deepEqual(await t.storage.callers.findDeploymentWithContact(SCOPE, '+919000000000'), {
        defaultCountry: 'IN',
        match: undefined,
      });
      assert.equal(
        await t.storage.callers.findDeploymentWithContact({ ...SCOPE, deploymentId: 'x' }, PHONE),
        undefined,
      );
    });

    it('never reads what an open transaction has not committed', async () => {
      let during: Promise<string | null> | undefined;
      await assert.rejects(
        t.storage.db.transaction().execute(async (trx) => {
          await sql`update cohorts set status = 'completed' where cohort_id = 'newer'`.execute(trx);
          // Started while the transaction is open (and, on SQLite, holds the one connection), not
          // awaited inside it; the transaction then rolls back.
          during = cohortFound();
          await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.equal(await during, 'older');
      await sql`update cohorts set status = 'completed' where cohort_id = 'newer'`.execute(t.storage.db);
      assert.equal(await cohortFound(), 'newer');
    });
  });
}
