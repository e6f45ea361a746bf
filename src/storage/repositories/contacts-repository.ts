// Contacts: the rows of completed cohorts, and the call-time read that finds a caller among them.
import { Type } from '@sinclair/typebox';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DeploymentScope } from '../../domain/tenancy/deployment-scope.js';
import { jsonColumn } from '../json-column.js';
import type { Database } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Removes what an interrupted attempt left, so a retry starts from a clean slate. */
export async function deleteContactsOfCohort(db: Db, seq: number): Promise<void> {
  await db.deleteFrom('contacts').where('cohort_seq', '=', seq).execute();
}

/** The row that first holds each phone in a cohort. */
export async function findFirstRows(db: Db, seq: number, phones: string[]): Promise<Map<string, number>> {
  if (phones.length === 0) return new Map();
  const rows = await db
    .selectFrom('contacts')
    .select(['phone', 'row_number'])
    .where('cohort_seq', '=', seq)
    .where('phone', 'in', phones)
    .execute();
  return new Map(rows.map((r) => [r.phone, Number(r.row_number)]));
}

/** A contact's variables and overrides as stored: names to values, both strings. */
const readValues = jsonColumn('contacts.app_variables', Type.Record(Type.String(), Type.String()));
const readOverrides = jsonColumn('contacts.app_overrides', Type.Record(Type.String(), Type.String()));

/** The contact row as the SQL below reads it: the JSON columns still text. */
interface StoredMatch {
  cohort_id: string;
  cohort_name: string;
  uploaded_at: string;
  user_identifier: string | null;
  app_variables: string;
  app_overrides: string;
}

export interface CallerMatch extends Omit<StoredMatch, 'app_variables' | 'app_overrides'> {
  app_variables: Record<string, string>;
  app_overrides: Record<string, string>;
}

function matchOf(row: StoredMatch): CallerMatch {
  return { ...row, app_variables: readValues(row.app_variables), app_overrides: readOverrides(row.app_overrides) };
}

/**
 * The call-time read: the newest completed cohort of the deployment holding the phone; one index
 * walk. Written as SQL text because building it with the query builder on every call costs more
 * than running it; findDeploymentWithContact below and findDeploymentCountry (deployments-repository)
 * are SQL text for the same reason.
 */
export async function findLatestContact(
  db: Db,
  scope: DeploymentScope,
  phone: string,
): Promise<CallerMatch | undefined> {
  const { rows } = await sql<StoredMatch>`
    select ch.cohort_id, ch.name as cohort_name, ch.created_at as uploaded_at, ct.user_identifier, ct.app_variables, ct.app_overrides
    from contacts ct join cohorts ch on ch.seq = ct.cohort_seq
    where ct.phone = ${phone} and ch.org_id = ${scope.orgId} and ch.workspace_id = ${scope.workspaceId}
      and ch.deployment_id = ${scope.deploymentId} and ch.status = 'completed'
    order by ct.cohort_seq desc
    limit 1`.execute(db);
  return rows[0] && matchOf(rows[0]);
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
  const { rows } = await sql<{ default_country: string | null } & { [K in keyof StoredMatch]: StoredMatch[K] | null }>`
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
    where d.org_id = ${scope.orgId} and d.workspace_id = ${scope.workspaceId} and d.deployment_id = ${scope.deploymentId}`.execute(
    db,
  );
  const row = rows[0];
  if (!row) return undefined;
  const match =
    row.cohort_id === null
      ? undefined
      : matchOf({
          cohort_id: row.cohort_id,
          cohort_name: row.cohort_name!,
          uploaded_at: row.uploaded_at!,
          user_identifier: row.user_identifier,
          app_variables: row.app_variables!,
          app_overrides: row.app_overrides!,
        });
  return { defaultCountry: row.default_country, match };
}
