// Users: the people of an org that API keys and batches belong to.
import type { Kysely, Selectable } from 'kysely';
import type { Database, UsersTable } from '../schema.js';
import { fetchPage, type Page, type PageRequest } from './paging.js';

type Db = Kysely<Database>;

export type UserRow = Selectable<UsersTable>;

export async function insertUser(db: Db, row: UserRow): Promise<void> {
  await db.insertInto('users').values(row).execute();
}

export function findUser(db: Db, orgId: string, userId: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

export function findUserById(db: Db, userId: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export function listUsers(db: Db, orgId: string, page: PageRequest): Promise<Page<UserRow>> {
  return fetchPage(
    db.selectFrom('users').selectAll().where('org_id', '=', orgId),
    [
      { column: 'created_at', direction: 'asc' },
      { column: 'user_id', direction: 'asc' },
    ],
    page,
  );
}

export async function deleteUser(db: Db, orgId: string, userId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('users')
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
