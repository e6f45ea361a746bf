// Contacts: the rows of completed cohorts, and the call-time read that finds a caller among them.
import { Type } from '@sinclair/typebox';
import type BetterSqlite3 from 'better-sqlite3';
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

/** The deployment's default country, and the caller's match if any cohort of it holds the phone. */
export interface DeploymentWithContact {
  defaultCountry: string | null;
  match: CallerMatch | undefined;
}

type DeploymentWithContactRow = { default_country: string | null } & {
  [K in keyof StoredMatch]: StoredMatch[K] | null;
};

function deploymentWithContactQuery(scope: DeploymentScope, phone: string) {
  return sql<DeploymentWithContactRow>`
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
    where d.org_id = ${scope.orgId} and d.workspace_id = ${scope.workspaceId} and d.deployment_id = ${scope.deploymentId}`;
}

function deploymentWithContactOf(row: DeploymentWithContactRow | undefined): DeploymentWithContact | undefined {
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

/**
 * The deployment's default country and, in the same round trip, the caller's match: the hot path
 * when the number arrives in international form (as caller IDs do) needs one statement.
 */
export async function findDeploymentWithContact(
  db: Db,
  scope: DeploymentScope,
  phone: string,
): Promise<DeploymentWithContact | undefined> {
  const { rows } = await deploymentWithContactQuery(scope, phone).execute(db);
  return deploymentWithContactOf(rows[0]);
}

/** The call-time read as the backend runs it fastest (`Storage.callers`). */
export interface CallerReads {
  findDeploymentWithContact(scope: DeploymentScope, phone: string): Promise<DeploymentWithContact | undefined>;
}

/** PostgreSQL: through the query builder and the pool. */
export function callerReads(db: Kysely<Database>): CallerReads {
  return { findDeploymentWithContact: (scope, phone) => findDeploymentWithContact(db, scope, phone) };
}

/**
 * SQLite: the same SQL, prepared once on the database handle and run without the query builder's
 * per-call work (compiling the query, its connection lock, the statement cache's lookup by SQL
 * text): 12 -> 5 µs a lookup in a loop over a million contacts. Only while no transaction is open
 * on the handle: the builder holds one open across awaits, and a statement run then would read its
 * uncommitted writes; such a lookup waits its turn through the builder instead.
 */
export function sqliteCallerReads(db: Kysely<Database>, handle: BetterSqlite3.Database): CallerReads {
  // The SQL text and the order of its parameters, as the builder writes them.
  const marks = {
    phone: '\u0001phone',
    orgId: '\u0001org',
    workspaceId: '\u0001workspace',
    deploymentId: '\u0001deployment',
  };
  const compiled = deploymentWithContactQuery(marks, marks.phone).compile(db);
  const order = compiled.parameters.map((value) => {
    const name = (Object.keys(marks) as Array<keyof typeof marks>).find((key) => marks[key] === value);
    if (!name) throw new Error(`unexpected parameter in the caller lookup: ${String(value)}`);
    return name;
  });
  let statement: BetterSqlite3.Statement<unknown[], DeploymentWithContactRow> | undefined;
  return {
    async findDeploymentWithContact(scope, phone) {
      if (handle.inTransaction) return findDeploymentWithContact(db, scope, phone);
      statement ??= handle.prepare<unknown[], DeploymentWithContactRow>(compiled.sql);
      const values = { phone, orgId: scope.orgId, workspaceId: scope.workspaceId, deploymentId: scope.deploymentId };
      return deploymentWithContactOf(statement.get(...order.map((name) => values[name])));
    },
  };
}
