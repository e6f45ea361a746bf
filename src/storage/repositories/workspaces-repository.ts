// Workspaces: an org's partitions, the unit an API key is granted.
import type { Kysely, Selectable } from 'kysely';
import type { Database, WorkspacesTable } from '../schema.js';
import { fetchPage, type Page, type PageRequest } from './paging.js';

type Db = Kysely<Database>;

export type WorkspaceRow = Selectable<WorkspacesTable>;

export async function insertWorkspace(db: Db, row: WorkspaceRow): Promise<void> {
  await db.insertInto('workspaces').values(row).execute();
}

export function findWorkspace(db: Db, orgId: string, workspaceId: string): Promise<WorkspaceRow | undefined> {
  return db
    .selectFrom('workspaces')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
}

export function listWorkspaces(
  db: Db,
  orgId: string,
  only: string[] | '*',
  page: PageRequest,
): Promise<Page<WorkspaceRow>> {
  let query = db.selectFrom('workspaces').selectAll().where('org_id', '=', orgId);
  if (only !== '*')
    query = only.length > 0 ? query.where('workspace_id', 'in', only) : query.where((eb) => eb.lit(false));
  return fetchPage(
    query,
    [
      { column: 'created_at', direction: 'asc' },
      { column: 'workspace_id', direction: 'asc' },
    ],
    page,
  );
}

/** Every workspace of an org a key reaches (all, or the ones it names that exist), by id; unpaged. */
export function listReachableWorkspaces(
  db: Db,
  orgId: string,
  only: readonly string[] | '*',
): Promise<Array<Pick<WorkspaceRow, 'workspace_id' | 'name'>>> {
  let query = db.selectFrom('workspaces').select(['workspace_id', 'name']).where('org_id', '=', orgId);
  if (only !== '*')
    query = only.length > 0 ? query.where('workspace_id', 'in', [...only]) : query.where((eb) => eb.lit(false));
  return query.orderBy('workspace_id').execute();
}

export async function deleteWorkspace(db: Db, orgId: string, workspaceId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('workspaces')
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
