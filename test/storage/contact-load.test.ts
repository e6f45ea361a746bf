import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { enqueue } from '../../src/queue/runner.js';
import type { ContactRow, LoadFence, LoadUnit, RowRejection } from '../../src/storage/contact-loader.js';
import * as cohorts from '../../src/storage/repositories/cohorts-repository.js';
import * as jobs from '../../src/storage/repositories/jobs-repository.js';
import { waitUntil } from '../faults/helpers/store-probe.js';
import { backends, type TestStorage } from '../helpers/backends.js';

const NOW = '2026-12-05T12:00:00.000Z';

/**
 * Contacts belong to their cohort: deleting the cohort (or what holds it) deletes them, and a load
 * never leaves contacts behind for a cohort deleted under it. On PostgreSQL this no longer rests on
 * a foreign key checked row by row (migration 0010) but on a trigger and the load's lock on the
 * cohort's row.
 */
for (const backend of await backends()) {
  describe(`contacts and their cohort on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestStorage;
    let cohortCount = 0;
    before(async () => {
      t = await backend.open();
    });
    after(async () => {
      await t?.cleanup();
    });

    /** An org with one workspace, deployment and cohort; its cohort's seq. */
    async function newCohort(org = `o${++cohortCount}`): Promise<number> {
      const db = t.storage.db;
      const existing = await db.selectFrom('orgs').select('org_id').where('org_id', '=', org).executeTakeFirst();
      if (!existing) {
        await sql`insert into orgs (org_id, name, created_at) values (${org}, 'O', ${NOW})`.execute(db);
        await sql`insert into workspaces (org_id, workspace_id, name, created_at) values (${org}, 'w', 'W', ${NOW})`.execute(
          db,
        );
        await sql`insert into agents (org_id, workspace_id, agent_id, name, variables, languages, states, created_at)
          values (${org}, 'w', 'a', 'A', '[]', '[]', '[]', ${NOW})`.execute(db);
        await sql`insert into deployments (org_id, workspace_id, deployment_id, name, agent_id, default_country, created_at)
          values (${org}, 'w', 'd', 'D', 'a', 'IN', ${NOW})`.execute(db);
      }
      const id = `c${++cohortCount}`;
      await sql`insert into cohorts (cohort_id, org_id, workspace_id, deployment_id, name, status, source_type,
        created_by, created_at, updated_at, transformation)
        values (${id}, ${org}, 'w', 'd', ${id}, 'processing', 'file_upload', 'x', ${NOW}, ${NOW}, '{}')`.execute(db);
      const row = await cohorts.findCohortById(db, id);
      assert.ok(row);
      return Number(row.seq);
    }

    async function contactsOf(seq: number): Promise<number> {
      const row = await t.storage.db
        .selectFrom('contacts')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('cohort_seq', '=', seq)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    }

    async function writeContacts(seq: number, phones: string[]): Promise<void> {
      for (const [i, phone] of phones.entries())
        await sql`insert into contacts (cohort_seq, row_number, phone, user_identifier, app_variables, app_overrides)
          values (${seq}, ${i + 2}, ${phone}, null, '{}', '{}')`.execute(t.storage.db);
    }

    async function fenceFor(cohortSeq: number): Promise<LoadFence> {
      await enqueue(t.storage.db, 'ingest_cohort', { cohortId: `load-${cohortSeq}` }, 3);
      const now = new Date();
      const claimed = await jobs.claimDueJob(
        t.storage.db,
        t.storage.capabilities,
        'test-worker',
        now.toISOString(),
        new Date(now.getTime() + 60_000).toISOString(),
        ['ingest_cohort'],
      );
      assert.ok(claimed);
      return { claim: jobs.claimOf(claimed), leaseMs: 60_000 };
    }

    function unitOf(cohortSeq: number, phones: string[]): LoadUnit {
      const accepted: ContactRow[] = phones.map((phone, i) => ({
        cohort_seq: cohortSeq,
        row_number: i + 2,
        phone,
        user_identifier: null,
        app_variables: '{}',
        app_overrides: '{}',
      }));
      return { firstRow: 2, rows: phones.map((p) => [p]), accepted, rejected: [] };
    }

    const sink = {
      rejections: [] as RowRejection[],
      async add(r: RowRejection) {
        this.rejections.push(r);
      },
    };

    it('deletes the contacts of a cohort deleted directly, or with its deployment, workspace or org', async () => {
      const db = t.storage.db;
      const direct = await newCohort();
      const byDeployment = await newCohort();
      const byWorkspace = await newCohort();
      const byOrg = await newCohort();
      const other = await newCohort();
      for (const seq of [direct, byDeployment, byWorkspace, byOrg, other])
        await writeContacts(seq, ['+919800000001', '+919800000002']);
      const orgOf = async (seq: number) =>
        (await db.selectFrom('cohorts').select('org_id').where('seq', '=', seq).executeTakeFirstOrThrow()).org_id;

      await db.transaction().execute((trx) => cohorts.deleteCohort(trx, direct));
      await sql`delete from cohorts where seq = ${direct}`.execute(db);
      await db
        .deleteFrom('deployments')
        .where('org_id', '=', await orgOf(byDeployment))
        .execute();
      await db
        .deleteFrom('workspaces')
        .where('org_id', '=', await orgOf(byWorkspace))
        .execute();
      await db
        .deleteFrom('orgs')
        .where('org_id', '=', await orgOf(byOrg))
        .execute();

      assert.deepEqual(
        await Promise.all([direct, byDeployment, byWorkspace, byOrg, other].map(contactsOf)),
        [0, 0, 0, 0, 2],
      );
    });

    it('leaves no contacts from a load whose cohort was deleted before it wrote them, and says so', async () => {
      const seq = await newCohort();
      const load = await t.storage.contacts.begin(seq, sink, await fenceFor(seq));
      await t.storage.db.transaction().execute((trx) => cohorts.deleteCohort(trx, seq));
      await assert.rejects(async () => {
        await load.add(unitOf(seq, ['+919811000001', '+919811000002']));
        await load.finish();
      });
      await load.abort();
      assert.equal(await contactsOf(seq), 0);
    });

    if (backend.dialect === 'postgres') {
      it('makes a cohort deletion wait for a load that is writing its contacts, then deletes them too', async () => {
        const seq = await newCohort();
        const load = await t.storage.contacts.begin(seq, sink, await fenceFor(seq));
        await load.add(unitOf(seq, ['+919822000001', '+919822000002', '+919822000003']));
        const connect = async (name: string) => {
          const client = new pg.Client({ connectionString: t.databaseUrl, application_name: name });
          await client.connect();
          await client.query(`set search_path = ${t.pgSchema}`);
          return client;
        };
        const blocker = await connect('test-blocker');
        const deleter = await connect('test-deleter');
        // Outside the blocker's transaction, which would see one snapshot of pg_stat_activity.
        const observer = await connect('test-observer');
        try {
          // The load's INSERT waits behind this lock, inside the transaction that wrote-locked the cohort.
          await blocker.query('begin');
          await blocker.query('lock table contacts in share mode');
          const finished = load.finish();
          const waiting = async (query: string) => {
            const { rows } = await observer.query(
              `select 1 from pg_stat_activity where wait_event_type = 'Lock' and query ilike $1`,
              [`${query}%`],
            );
            return rows.length > 0;
          };
          await waitUntil('the load to wait for the lock', () => waiting('insert into contacts'), 10_000);
          const deleted = deleter.query('delete from cohorts where seq = $1', [seq]);
          // The deletion must not slip in before the load commits: it waits for the cohort's row.
          await waitUntil('the deletion to wait for the load', () => waiting('delete from cohorts'), 10_000);
          await blocker.query('commit');
          assert.equal(await finished, 3);
          assert.equal((await deleted).rowCount, 1);
        } finally {
          await Promise.all([blocker.end(), deleter.end(), observer.end()]);
        }
        assert.equal(await contactsOf(seq), 0);
      });

      it('empties contacts when cohorts are truncated', async () => {
        const seq = await newCohort();
        await writeContacts(seq, ['+919833000001']);
        await sql`truncate cohorts cascade`.execute(t.storage.db);
        const left = await t.storage.db
          .selectFrom('contacts')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow();
        assert.equal(Number(left.n), 0);
      });
    }
  });
}
