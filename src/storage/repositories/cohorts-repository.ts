import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { CohortsTable, Database } from '../schema.js';
import { fetchPage, type Page, type PageRequest } from './paging.js';

type Db = Kysely<Database> | Transaction<Database>;
export type CohortRow = Selectable<CohortsTable>;
export type NewCohort = Insertable<CohortsTable>;
export type { ContactRow } from '../contact-loader.js';

export interface DeploymentScope {
  orgId: string;
  workspaceId: string;
  deploymentId: string;
}

/** Inserts a cohort; its `seq` (the upload order that decides latest-wins) is assigned here. */
export async function insertCohort(db: Db, row: NewCohort): Promise<CohortRow> {
  return db.insertInto('cohorts').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findCohort(db: Db, scope: DeploymentScope, cohortId: string): Promise<CohortRow | undefined> {
  return db
    .selectFrom('cohorts')
    .selectAll()
    .where('cohort_id', '=', cohortId)
    .where('org_id', '=', scope.orgId)
    .where('workspace_id', '=', scope.workspaceId)
    .where('deployment_id', '=', scope.deploymentId)
    .executeTakeFirst();
}

export function findCohortById(db: Db, cohortId: string): Promise<CohortRow | undefined> {
  return db.selectFrom('cohorts').selectAll().where('cohort_id', '=', cohortId).executeTakeFirst();
}

export type CohortSortColumn = 'created_at' | 'name' | 'status';

export function listCohorts(
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
  return fetchPage(query, options.sortBy === 'created_at' ? [seq] : [{ column: options.sortBy, direction: options.sortOrder }, seq], options);
}

export async function updateCohort(db: Db, seq: number, changes: Partial<Omit<CohortRow, 'seq' | 'cohort_id'>>): Promise<void> {
  await db.updateTable('cohorts').set(changes).where('seq', '=', seq).execute();
}

/** Publishes a processed cohort: one statement, so its contacts appear to lookups all at once. */
export async function completeCohort(
  db: Db,
  seq: number,
  result: { total: number; valid: number; rejected: number; rejectedFileKey: string | null; now: string },
): Promise<boolean> {
  const updated = await db
    .updateTable('cohorts')
    .set({
      status: 'completed',
      total_records: result.total,
      valid_records: result.valid,
      rejected_records: result.rejected,
      rejected_file_key: result.rejectedFileKey,
      updated_at: result.now,
    })
    .where('seq', '=', seq)
    .where('status', '=', 'processing')
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

export async function failCohort(db: Db, seq: number, error: { code: string; message: string; details: unknown; now: string }): Promise<void> {
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

/** Removes what an interrupted attempt left, so a retry starts from a clean slate. */
export async function deleteContactsOfCohort(db: Db, seq: number): Promise<void> {
  await db.deleteFrom('contacts').where('cohort_seq', '=', seq).execute();
}

/** The row that first holds each phone in a cohort. */
export async function findFirstRows(db: Db, seq: number, phones: string[]): Promise<Map<string, number>> {
  if (phones.length === 0) return new Map();
  const rows = await db.selectFrom('contacts').select(['phone', 'row_number']).where('cohort_seq', '=', seq).where('phone', 'in', phones).execute();
  return new Map(rows.map((r) => [r.phone, Number(r.row_number)]));
}

export interface CallerMatch {
  cohort_id: string;
  cohort_name: string;
  uploaded_at: string;
  user_identifier: string | null;
  app_variables: string;
  app_overrides: string;
}

/**
 * The call-time read: the newest completed cohort of the deployment holding the phone; one index
 * walk. Written as SQL text because building it with the query builder on every call costs more
 * than running it (the hot-path reads here share that reason).
 */
export async function findLatestContact(db: Db, scope: DeploymentScope, phone: string): Promise<CallerMatch | undefined> {
  const { rows } = await sql<CallerMatch>`
    select ch.cohort_id, ch.name as cohort_name, ch.created_at as uploaded_at, ct.user_identifier, ct.app_variables, ct.app_overrides
    from contacts ct join cohorts ch on ch.seq = ct.cohort_seq
    where ct.phone = ${phone} and ch.org_id = ${scope.orgId} and ch.workspace_id = ${scope.workspaceId}
      and ch.deployment_id = ${scope.deploymentId} and ch.status = 'completed'
    order by ct.cohort_seq desc
    limit 1`.execute(db);
  return rows[0];
}

/** Whether the deployment exists, and its default country (hot path: SQL text, see above). */
export async function findDeploymentCountry(db: Db, scope: DeploymentScope): Promise<{ defaultCountry: string | null } | undefined> {
  const { rows } = await sql<{ default_country: string | null }>`
    select default_country from deployments
    where org_id = ${scope.orgId} and workspace_id = ${scope.workspaceId} and deployment_id = ${scope.deploymentId}`.execute(db);
  return rows[0] ? { defaultCountry: rows[0].default_country } : undefined;
}

/**
 * The deployment's default country and, in the same round trip, the caller's match: the hot path
 * when the number arrives in international form (as caller IDs do) needs one statement.
 */
export async function findDeploymentWithContact(
  db: Db,
  scope: DeploymentScope,
  phone: string,
): Promise<{ defaultCountry: string | null; match: CallerMatch | undefined } | undefined> {
  const { rows } = await sql<{ default_country: string | null } & { [K in keyof CallerMatch]: CallerMatch[K] | null }>`
    select d.default_country, m.cohort_id, m.cohort_name, m.uploaded_at, m.user_identifier, m.app_variables, m.app_overrides
    from deployments d
    left join (
      select ch.cohort_id, ch.name as cohort_name, ch.created_at as uploaded_at, ct.user_identifier, ct.app_variables, ct.app_overrides
      from contacts ct join cohorts ch on ch.seq = ct.cohort_seq
      where ct.phone = ${phone} and ch.org_id = ${scope.orgId} and ch.workspace_id = ${scope.workspaceId}
        and ch.deployment_id = ${scope.deploymentId} and ch.status = 'completed'
      order by ct.cohort_seq desc
      limit 1
    ) m on true
    where d.org_id = ${scope.orgId} and d.workspace_id = ${scope.workspaceId} and d.deployment_id = ${scope.deploymentId}`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  const match =
    row.cohort_id === null
      ? undefined
      : {
          cohort_id: row.cohort_id,
          cohort_name: row.cohort_name!,
          uploaded_at: row.uploaded_at!,
          user_identifier: row.user_identifier,
          app_variables: row.app_variables!,
          app_overrides: row.app_overrides!,
        };
  return { defaultCountry: row.default_country, match };
}
