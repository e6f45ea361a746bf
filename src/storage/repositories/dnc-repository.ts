// The do-not-call list: numbers a workspace's batches must skip.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../schema.js';
import { fetchPage, type PageRequest } from './paging.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function findDncAmong(db: Db, orgId: string, workspaceId: string, phones: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < phones.length; i += 500) {
    const rows = await db
      .selectFrom('dnc_numbers')
      .select('phone')
      .where('org_id', '=', orgId)
      .where('workspace_id', '=', workspaceId)
      .where('phone', 'in', phones.slice(i, i + 500))
      .execute();
    for (const row of rows) found.add(row.phone);
  }
  return found;
}

export async function insertDnc(
  db: Db,
  orgId: string,
  workspaceId: string,
  phones: string[],
  reason: string | null,
  now: string,
): Promise<number> {
  let added = 0;
  for (let i = 0; i < phones.length; i += 500) {
    const result = await db
      .insertInto('dnc_numbers')
      .values(
        phones
          .slice(i, i + 500)
          .map((phone) => ({ org_id: orgId, workspace_id: workspaceId, phone, reason, created_at: now })),
      )
      .onConflict((oc) => oc.columns(['org_id', 'workspace_id', 'phone']).doNothing())
      .executeTakeFirst();
    added += Number(result.numInsertedOrUpdatedRows ?? 0n);
  }
  return added;
}

export async function deleteDnc(db: Db, orgId: string, workspaceId: string, phone: string): Promise<boolean> {
  const result = await db
    .deleteFrom('dnc_numbers')
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .where('phone', '=', phone)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function listDnc(db: Db, orgId: string, workspaceId: string, page: PageRequest) {
  return fetchPage(
    db.selectFrom('dnc_numbers').selectAll().where('org_id', '=', orgId).where('workspace_id', '=', workspaceId),
    [
      { column: 'created_at', direction: 'desc' },
      { column: 'phone', direction: 'asc' },
    ],
    page,
  );
}
