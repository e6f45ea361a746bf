// Deployments: an agent deployed in a workspace; cohorts and caller lookups belong to one.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { DeploymentScope } from '../../domain/tenancy/deployment-scope.js';
import type { Database, DeploymentsTable } from '../schema.js';
import { fetchPage, type Page, type PageRequest } from './paging.js';

type Db = Kysely<Database> | Transaction<Database>;

export type DeploymentRow = Selectable<DeploymentsTable>;

export async function insertDeployment(db: Db, row: DeploymentRow): Promise<void> {
  await db.insertInto('deployments').values(row).execute();
}

export function findDeployment(
  db: Db,
  orgId: string,
  workspaceId: string,
  deploymentId: string,
): Promise<DeploymentRow | undefined> {
  return db
    .selectFrom('deployments')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .where('deployment_id', '=', deploymentId)
    .executeTakeFirst();
}

export function listDeployments(
  db: Db,
  orgId: string,
  workspaceId: string,
  page: PageRequest,
): Promise<Page<DeploymentRow>> {
  return fetchPage(
    db.selectFrom('deployments').selectAll().where('org_id', '=', orgId).where('workspace_id', '=', workspaceId),
    [
      { column: 'created_at', direction: 'asc' },
      { column: 'deployment_id', direction: 'asc' },
    ],
    page,
  );
}

export async function deleteDeployment(
  db: Db,
  orgId: string,
  workspaceId: string,
  deploymentId: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('deployments')
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .where('deployment_id', '=', deploymentId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * Whether the deployment exists, and its default country: a caller lookup reads it on every call, so
 * it is SQL text rather than built with the query builder each time (see contacts-repository).
 */
export async function findDeploymentCountry(
  db: Db,
  scope: DeploymentScope,
): Promise<{ defaultCountry: string | null } | undefined> {
  const { rows } = await sql<{ default_country: string | null }>`
    select default_country from deployments
    where org_id = ${scope.orgId} and workspace_id = ${scope.workspaceId} and deployment_id = ${scope.deploymentId}`.execute(
    db,
  );
  return rows[0] ? { defaultCountry: rows[0].default_country } : undefined;
}
