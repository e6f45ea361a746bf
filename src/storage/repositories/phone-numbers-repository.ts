// Phone numbers: a workspace's calling numbers (the batch API's callingNumbers).
import type { Kysely, Selectable } from 'kysely';
import type { Database, PhoneNumbersTable } from '../schema.js';
import { fetchPage, type Page, type PageRequest } from './paging.js';

type Db = Kysely<Database>;

export type PhoneNumberRow = Selectable<PhoneNumbersTable>;

export async function insertPhoneNumber(db: Db, row: PhoneNumberRow): Promise<void> {
  await db.insertInto('phone_numbers').values(row).execute();
}

export function findPhoneNumber(
  db: Db,
  orgId: string,
  workspaceId: string,
  phoneNumberId: string,
): Promise<PhoneNumberRow | undefined> {
  return db
    .selectFrom('phone_numbers')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .where('phone_number_id', '=', phoneNumberId)
    .executeTakeFirst();
}

export function findPhoneNumberById(db: Db, phoneNumberId: string): Promise<PhoneNumberRow | undefined> {
  return db.selectFrom('phone_numbers').selectAll().where('phone_number_id', '=', phoneNumberId).executeTakeFirst();
}

export function listPhoneNumbers(
  db: Db,
  orgId: string,
  workspaceId: string,
  page: PageRequest,
): Promise<Page<PhoneNumberRow>> {
  return fetchPage(
    db.selectFrom('phone_numbers').selectAll().where('org_id', '=', orgId).where('workspace_id', '=', workspaceId),
    [
      { column: 'created_at', direction: 'asc' },
      { column: 'phone_number_id', direction: 'asc' },
    ],
    page,
  );
}

export async function deletePhoneNumber(
  db: Db,
  orgId: string,
  workspaceId: string,
  phoneNumberId: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('phone_numbers')
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .where('phone_number_id', '=', phoneNumberId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
