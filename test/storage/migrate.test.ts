import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { migrateToLatest, pendingMigrations } from '../../src/storage/migrate.js';
import { backends, type TestStorage } from '../helpers/backends.js';

/** How to undo each migration after 0006, to go back to the schema before it. */
const AFTER_0006: Record<string, string[]> = {
  '0007-cohort-progress': ['started_at', 'rows', 'bytes', 'valid', 'rejected'].map(
    (column) => `alter table cohorts drop column progress_${column}`,
  ),
  '0008-rejection-summary': ['alter table cohorts drop column rejections_by_reason'],
};

for (const backend of await backends()) {
  describe(`migrations on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestStorage;
    before(async () => {
      t = await backend.open();
    });
    after(async () => {
      await t?.cleanup();
    });

    it('applies every migration once and reports none pending', async () => {
      assert.deepEqual(await pendingMigrations(t.storage), []);
      assert.deepEqual((await migrateToLatest(t.storage)).applied, []);
    });

    it('0006 turns stored attempts-in-all into retries and minutes into seconds, so batches dial as before', async () => {
      const db = t.storage.db;
      const now = '2026-12-07T15:00:00.000Z';
      // Back to the schema before 0006, holding batches written with the old meanings.
      await sql`alter table batches rename column delay_seconds to delay_minutes`.execute(db);
      await sql`delete from kysely_migration where name = '0006-batch-retry-delay-units'`.execute(db);
      // Kysely applies migrations in order only: the later ones are undone too, and applied again.
      for (const [name, statements] of Object.entries(AFTER_0006)) {
        for (const statement of statements) await sql.raw(statement).execute(db);
        await sql`delete from kysely_migration where name = ${name}`.execute(db);
      }
      await sql`insert into orgs (org_id, name, created_at) values ('o', 'O', ${now})`.execute(db);
      await sql`insert into workspaces (org_id, workspace_id, name, created_at) values ('o', 'w', 'W', ${now})`.execute(
        db,
      );
      for (const [id, retry, minutes] of [
        ['a'.repeat(24), 3, 60],
        ['b'.repeat(24), 1, 1],
        ['c'.repeat(24), 10, 10080],
      ] as const)
        await sql`insert into batches (batch_id, org_id, workspace_id, agent_id, user_id, batch_name, batch_type,
          status, calling_numbers, enable_dnc, retry, delay_minutes, timezone, calling_start, calling_end,
          allowed_days, total_calls, skipped_invalid, skipped_duplicate, skipped_dnc, rotation, created_at, updated_at)
          values (${id}, 'o', 'w', 'agent', 'user', 'B', 'outbound', 'running', '[]', 0, ${retry}, ${minutes},
          'UTC', '09:00', '18:00', '[1]', 0, 0, 0, 0, 0, ${now}, ${now})`.execute(db);
      assert.deepEqual((await migrateToLatest(t.storage)).applied, [
        '0006-batch-retry-delay-units',
        ...Object.keys(AFTER_0006),
      ]);
      const rows = await db
        .selectFrom('batches')
        .select(['batch_id', 'retry', 'delay_seconds'])
        .orderBy('batch_id')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.batch_id[0], Number(r.retry), Number(r.delay_seconds)]),
        [
          ['a', 2, 3600],
          ['b', 0, 60],
          ['c', 9, 604800],
        ],
      );
    });

    it('0008 gives cohorts completed without a rejection an empty summary, and leaves unknown ones null', async () => {
      const db = t.storage.db;
      const now = '2026-12-07T15:00:00.000Z';
      await sql`alter table cohorts drop column rejections_by_reason`.execute(db);
      await sql`delete from kysely_migration where name = '0008-rejection-summary'`.execute(db);
      await sql`insert into orgs (org_id, name, created_at) values ('o8', 'O', ${now})`.execute(db);
      await sql`insert into workspaces (org_id, workspace_id, name, created_at) values ('o8', 'w', 'W', ${now})`.execute(
        db,
      );
      await sql`insert into deployments (org_id, workspace_id, deployment_id, name, agent_id, created_at)
        values ('o8', 'w', 'd', 'D', 'agent', ${now})`.execute(db);
      for (const [id, status, rejected] of [
        ['clean', 'completed', 0],
        ['rejected', 'completed', 3],
        ['processing', 'processing', null],
      ] as const)
        await sql`insert into cohorts (cohort_id, org_id, workspace_id, deployment_id, name, status, source_type,
          created_by, created_at, updated_at, total_records, valid_records, rejected_records, transformation)
          values (${id}, 'o8', 'w', 'd', ${id}, ${status}, 'file_upload', 'x', ${now}, ${now},
          ${rejected === null ? null : 5}, ${rejected === null ? null : 5 - rejected}, ${rejected}, '{}')`.execute(db);
      assert.deepEqual((await migrateToLatest(t.storage)).applied, ['0008-rejection-summary']);
      const rows = await db
        .selectFrom('cohorts')
        .select(['cohort_id', 'rejections_by_reason'])
        .orderBy('cohort_id')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.cohort_id, r.rejections_by_reason]),
        [
          ['clean', '[]'],
          ['processing', null],
          ['rejected', null],
        ],
      );
    });
  });
}
