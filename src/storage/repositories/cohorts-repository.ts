// Cohorts: one uploaded file of contacts and its processing state; its rows live in contacts-repository.
import { Type } from '@sinclair/typebox';
import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { RejectionsByReason } from '../../domain/ingest/row-rejection.js';
import type { DeploymentScope } from '../../domain/tenancy/deployment-scope.js';
import { jsonColumn } from '../json-column.js';
import type { CohortsTable, Database } from '../schema.js';
import { fetchPage, type Page, type PageRequest } from './paging.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * A cohort with its JSON columns parsed: failure details (any JSON: each error code has its own
 * details) and rejected rows counted by code (null before a cohort completes, and for cohorts
 * completed with rejections before Roster counted them: migration 0008).
 */
export interface CohortRow extends Omit<Selectable<CohortsTable>, 'error_details' | 'rejections_by_reason'> {
  error_details: unknown;
  rejections_by_reason: RejectionsByReason[] | null;
}

export type NewCohort = Omit<Insertable<CohortsTable>, 'error_details' | 'rejections_by_reason'>;

const readErrorDetails = jsonColumn('cohorts.error_details', Type.Unknown());
const readRejectionsByReason = jsonColumn(
  'cohorts.rejections_by_reason',
  Type.Array(Type.Object({ code: Type.String(), count: Type.Integer(), example_row: Type.Integer() })),
);

function cohortOf(row: Selectable<CohortsTable>): CohortRow {
  return {
    ...row,
    error_details: row.error_details === null ? null : readErrorDetails(row.error_details),
    rejections_by_reason: row.rejections_by_reason === null ? null : readRejectionsByReason(row.rejections_by_reason),
  };
}

/** Inserts a cohort; its `seq` (the upload order that decides latest-wins) is assigned here. */
export async function insertCohort(db: Db, row: NewCohort): Promise<CohortRow> {
  return cohortOf(await db.insertInto('cohorts').values(row).returningAll().executeTakeFirstOrThrow());
}

export async function findCohort(db: Db, scope: DeploymentScope, cohortId: string): Promise<CohortRow | undefined> {
  const row = await db
    .selectFrom('cohorts')
    .selectAll()
    .where('cohort_id', '=', cohortId)
    .where('org_id', '=', scope.orgId)
    .where('workspace_id', '=', scope.workspaceId)
    .where('deployment_id', '=', scope.deploymentId)
    .executeTakeFirst();
  return row && cohortOf(row);
}

export async function findCohortById(db: Db, cohortId: string): Promise<CohortRow | undefined> {
  const row = await db.selectFrom('cohorts').selectAll().where('cohort_id', '=', cohortId).executeTakeFirst();
  return row && cohortOf(row);
}

export type CohortSortColumn = 'created_at' | 'name' | 'status';

export async function listCohorts(
  db: Db,
  scope: DeploymentScope,
  options: PageRequest & { sortBy: CohortSortColumn; sortOrder: 'asc' | 'desc'; search?: string },
): Promise<Page<CohortRow>> {
  let query = db
    .selectFrom('cohorts')
    .selectAll()
    .where('org_id', '=', scope.orgId)
    .where('workspace_id', '=', scope.workspaceId)
    .where('deployment_id', '=', scope.deploymentId);
  if (options.search) {
    const pattern = `%${options.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where(sql<boolean>`lower(name) like ${pattern} escape '\\'`);
  }
  // seq breaks ties in upload order, so pages never overlap.
  const seq = { column: 'seq', direction: options.sortOrder };
  const { rows, total } = await fetchPage(
    query,
    options.sortBy === 'created_at' ? [seq] : [{ column: options.sortBy, direction: options.sortOrder }, seq],
    options,
  );
  return { rows: rows.map(cohortOf), total };
}

/**
 * How many phones of each given cohort lookups answer from it now: its phones that no later
 * completed cohort of the same deployment holds. The lookup's own rule (findLatestContact: the
 * completed cohort with the highest seq wins), in one set-based statement for a page of cohorts:
 * it reads each cohort's contacts through contacts_by_cohort and probes contacts_by_phone
 * (phone, cohort_seq) for a later seq, so its cost grows with the size of the page's cohorts.
 * `cross join` keeps SQLite's loop order (contacts by phone first, then the cohort by its key);
 * without it SQLite walks every later cohort of every deployment per contact. PostgreSQL plans it
 * as an ordinary join (a hash anti join over the deployment's completed contacts on a big page).
 * Pass completed cohorts only: a processing or failed cohort serves nothing. A completed cohort's
 * contacts never change, so its valid_records is the number of contacts it holds.
 */
export async function countServingPhones(db: Db, scope: DeploymentScope, seqs: number[]): Promise<Map<number, number>> {
  if (seqs.length === 0) return new Map();
  // A cohort no later completed cohort of its deployment shadows serves every contact it holds,
  // which is its valid_records: the newest cohort, the one a client polls until it completes, is
  // answered without reading its contacts (a 1M-row cohort took 1.9 s on PostgreSQL).
  const newest = await db
    .selectFrom('cohorts as h')
    .select(['h.seq', 'h.valid_records'])
    .where('h.seq', 'in', seqs)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('cohorts as lh')
            .select('lh.seq')
            .whereRef('lh.seq', '>', 'h.seq')
            .where('lh.status', '=', 'completed')
            .where('lh.org_id', '=', scope.orgId)
            .where('lh.workspace_id', '=', scope.workspaceId)
            .where('lh.deployment_id', '=', scope.deploymentId),
        ),
      ),
    )
    .execute();
  const serving = new Map(newest.map((r) => [Number(r.seq), Number(r.valid_records ?? 0)]));
  const shadowed = seqs.filter((seq) => !serving.has(seq));
  if (shadowed.length === 0) return serving;
  const { rows } = await sql<{ seq: number | string; serving: number | string }>`
    select c.cohort_seq as seq, count(*) as serving
    from contacts c
    where c.cohort_seq in (${sql.join(shadowed)})
      and not exists (
        select 1 from contacts l cross join cohorts lh
        where l.phone = c.phone and l.cohort_seq > c.cohort_seq and lh.seq = l.cohort_seq and lh.status = 'completed'
          and lh.org_id = ${scope.orgId} and lh.workspace_id = ${scope.workspaceId}
          and lh.deployment_id = ${scope.deploymentId}
      )
    group by c.cohort_seq`.execute(db);
  for (const r of rows) serving.set(Number(r.seq), Number(r.serving));
  return serving;
}

export async function updateCohort(
  db: Db,
  seq: number,
  changes: Partial<Omit<CohortRow, 'seq' | 'cohort_id' | 'error_details' | 'rejections_by_reason'>>,
): Promise<void> {
  await db.updateTable('cohorts').set(changes).where('seq', '=', seq).execute();
}

/** How far an ingest attempt has got: data rows and file bytes read, and the rows kept and rejected so far. */
export interface CohortProgress {
  rows: number;
  bytes: number;
  valid: number;
  rejected: number;
}

/** A new attempt's progress: nothing read yet, since `startedAt`. Only while the cohort is processing. */
export async function startCohortProgress(db: Db, seq: number, startedAt: string): Promise<void> {
  await db
    .updateTable('cohorts')
    .set({
      progress_started_at: startedAt,
      progress_rows: 0,
      progress_bytes: 0,
      progress_valid: 0,
      progress_rejected: 0,
    })
    .where('seq', '=', seq)
    .where('status', '=', 'processing')
    .execute();
}

/** One small UPDATE of the running attempt's counts (at most about once a second, never per row). */
export async function recordCohortProgress(db: Db, seq: number, progress: CohortProgress): Promise<void> {
  await db
    .updateTable('cohorts')
    .set({
      progress_rows: progress.rows,
      progress_bytes: progress.bytes,
      progress_valid: progress.valid,
      progress_rejected: progress.rejected,
    })
    .where('seq', '=', seq)
    .where('status', '=', 'processing')
    .execute();
}

/** Publishes a processed cohort: one statement, so its contacts appear to lookups all at once. */
export async function completeCohort(
  db: Db,
  seq: number,
  result: {
    total: number;
    valid: number;
    rejected: number;
    rejectionsByReason: RejectionsByReason[];
    rejectedFileKey: string | null;
    now: string;
  },
): Promise<boolean> {
  const updated = await db
    .updateTable('cohorts')
    .set({
      status: 'completed',
      total_records: result.total,
      valid_records: result.valid,
      rejected_records: result.rejected,
      rejections_by_reason: JSON.stringify(result.rejectionsByReason),
      rejected_file_key: result.rejectedFileKey,
      updated_at: result.now,
    })
    .where('seq', '=', seq)
    .where('status', '=', 'processing')
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

export async function failCohort(
  db: Db,
  seq: number,
  error: { code: string; message: string; details: unknown; now: string },
): Promise<void> {
  await db
    .updateTable('cohorts')
    .set({
      status: 'failed',
      error_code: error.code,
      error_message: error.message,
      error_details: JSON.stringify(error.details ?? null),
      updated_at: error.now,
    })
    .where('seq', '=', seq)
    .where('status', '=', 'processing')
    .execute();
}

export async function deleteCohort(db: Db, seq: number): Promise<void> {
  await db.deleteFrom('contacts').where('cohort_seq', '=', seq).execute();
  await db.deleteFrom('cohorts').where('seq', '=', seq).execute();
}

/**
 * Failed cohorts that still hold contacts: what a final failure could not clean up (a full disk, a
 * process gone before its clean-up). The contacts are invisible (lookups read completed cohorts
 * only) but take space until removed.
 */
export async function findFailedCohortsWithContacts(
  db: Db,
  limit: number,
): Promise<Array<{ seq: number; cohort_id: string }>> {
  return db
    .selectFrom('cohorts as h')
    .select(['h.seq', 'h.cohort_id'])
    .where('h.status', '=', 'failed')
    .where((eb) =>
      eb.exists(eb.selectFrom('contacts as c').select('c.cohort_seq').whereRef('c.cohort_seq', '=', 'h.seq')),
    )
    .limit(limit)
    .execute();
}
