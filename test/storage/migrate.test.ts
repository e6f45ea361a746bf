import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { type DialectName, openStorage } from '../../src/storage/db.js';
import type { Database } from '../../src/storage/schema.js';
import { migrateToLatest, pendingMigrations } from '../../src/storage/migrate.js';
import { backends, type TestStorage } from '../helpers/backends.js';
import { createScratchDatabase } from '../helpers/test-postgres.js';

const KEY_CHANGE_TABLES = ['api_keys', 'users', 'orgs'];

/** How to undo each migration after 0006 (0010 is PostgreSQL's alone), to go back to the schema before it. */
function afterMigration0006(dialect: DialectName): Record<string, string[]> {
  return {
    '0007-cohort-progress': ['started_at', 'rows', 'bytes', 'valid', 'rejected'].map(
      (column) => `alter table cohorts drop column progress_${column}`,
    ),
    '0008-rejection-summary': ['alter table cohorts drop column rejections_by_reason'],
    '0009-key-changes':
      dialect === 'sqlite'
        ? [
            ...KEY_CHANGE_TABLES.flatMap((table) => [`drop trigger ${table}_updated`, `drop trigger ${table}_deleted`]),
            'drop table key_changes',
          ]
        : [
            ...KEY_CHANGE_TABLES.map((table) => `drop trigger ${table}_changed on ${table}`),
            'drop function roster_key_changed',
          ],
    ...(dialect === 'postgres'
      ? {
          '0010-contacts-without-row-checks': [
            'drop trigger cohorts_deleted on cohorts',
            'drop trigger cohorts_truncated on cohorts',
            'drop function roster_cohorts_deleted',
            'drop function roster_cohorts_truncated',
            'alter table contacts add constraint contacts_cohort_seq_fkey foreign key (cohort_seq) references cohorts (seq) on delete cascade',
          ],
        }
      : {}),
    '0011-audit-events': ['drop table audit_events'],
    '0012-idempotency-keys': ['drop table idempotency_keys'],
    '0013-webhooks': ['drop table webhook_attempts', 'drop table webhook_deliveries', 'drop table webhooks'],
    '0014-cohort-retention': [
      'drop index deployments_by_retention_run',
      'alter table deployments drop column cohort_retention_days',
      'alter table deployments drop column cohort_retention_strict',
      'alter table deployments drop column cohort_retention_last_run_at',
      'alter table deployments drop column cohort_retention_next_run_at',
    ],
    '0015-erasures': ['drop table erasure_cohorts', 'drop table erasures'],
  };
}

/** Kysely applies migrations in order only: to apply one again, the later ones are undone too. */
async function undoMigrationsAfter(db: Kysely<Database>, dialect: DialectName, name: string): Promise<string[]> {
  const undone = Object.entries(afterMigration0006(dialect)).filter(([migration]) => migration > name);
  for (const [migration, statements] of [...undone].reverse()) {
    for (const statement of statements) await sql.raw(statement).execute(db);
    await sql`delete from kysely_migration where name = ${migration}`.execute(db);
  }
  return undone.map(([migration]) => migration);
}

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
      const later = await undoMigrationsAfter(db, backend.dialect, '0006-batch-retry-delay-units');
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
      assert.deepEqual((await migrateToLatest(t.storage)).applied, ['0006-batch-retry-delay-units', ...later]);
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
      const later = await undoMigrationsAfter(db, backend.dialect, '0008-rejection-summary');
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
      assert.deepEqual((await migrateToLatest(t.storage)).applied, ['0008-rejection-summary', ...later]);
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

const postgres = (await backends()).find((backend) => backend.dialect === 'postgres');

describe('migrations on postgres while another client drops schemas', {
  skip: postgres?.skip ?? 'no PostgreSQL mode',
}, () => {
  it('each Roster schema still migrates: schemas of others, dropped meanwhile, are never looked at', async () => {
    // Kysely's own introspector lists every schema's tables and columns; a schema dropped during that
    // scan failed it with 3F000 (the schema) or 42P01 (one of its tables). Roster's migrator looks at
    // its own schema only (migrate.ts); with Kysely's, this failed within a few rounds.
    const database = await createScratchDatabase('roster_churn');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-churn-'));
    const churn = new pg.Client({ connectionString: database.url });
    await churn.connect();
    let churning = true;
    const churned = (async () => {
      // A rolling set of 20 schemas with a table each, one created and one dropped at a time.
      for (let i = 0; churning; i++) {
        await churn.query(`create schema churn_${i}`);
        await churn.query(`create table churn_${i}.t (a integer, b text)`);
        if (i >= 20) await churn.query(`drop schema churn_${i - 20} cascade`);
      }
    })();
    try {
      for (let round = 0; round < 12; round++) {
        const schema = `roster_${round}`;
        await churn.query(`create schema ${schema}`);
        const storage = openStorage({ databaseUrl: database.url, dataDir, pgSchema: schema, poolSize: 2 });
        try {
          assert.ok((await migrateToLatest(storage)).applied.length > 0);
          assert.deepEqual(await pendingMigrations(storage), []);
        } finally {
          await storage.close();
        }
      }
    } finally {
      churning = false;
      await churned;
      await churn.end();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
