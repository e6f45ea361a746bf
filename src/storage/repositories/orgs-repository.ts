// Orgs: the top of the tenancy tree.
import type { Kysely, Selectable } from 'kysely';
import type { Database, OrgsTable } from '../schema.js';
import { fetchPage, type Page, type PageRequest } from './paging.js';

type Db = Kysely<Database>;

export type OrgRow = Selectable<OrgsTable>;

export async function insertOrg(db: Db, row: OrgRow): Promise<void> {
  await db.insertInto('orgs').values(row).execute();
}

export function findOrg(db: Db, orgId: string): Promise<OrgRow | undefined> {
  return db.selectFrom('orgs').selectAll().where('org_id', '=', orgId).executeTakeFirst();
}

export function listOrgs(db: Db, page: PageRequest): Promise<Page<OrgRow>> {
  return fetchPage(
    db.selectFrom('orgs').selectAll(),
    [
      { column: 'created_at', direction: 'asc' },
      { column: 'org_id', direction: 'asc' },
    ],
    page,
  );
}

export async function deleteOrg(db: Db, orgId: string): Promise<boolean> {
  const result = await db.deleteFrom('orgs').where('org_id', '=', orgId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function countOrgs(db: Db): Promise<number> {
  const row = await db
    .selectFrom('orgs')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
