import { Type } from '@sinclair/typebox';
import { sql, type Kysely, type Selectable } from 'kysely';
import { jsonColumn } from '../json-column.js';
import type { ApiKeysTable, Database } from '../schema.js';
import { fetchPage, type Page, type PageRequest } from './paging.js';

type Db = Kysely<Database>;

/** An API key with the workspaces it reaches: every one ('*', stored as is) or a list (stored as JSON). */
export interface ApiKeyRow extends Omit<Selectable<ApiKeysTable>, 'workspaces'> {
  workspaces: '*' | string[];
}

const readWorkspaceList = jsonColumn('api_keys.workspaces', Type.Array(Type.String()));

/** The stored `workspaces` column as the key reaches it: every workspace ('*') or a list. */
export function readWorkspaces(stored: string): ApiKeyRow['workspaces'] {
  return stored === '*' ? '*' : readWorkspaceList(stored);
}

function keyOf<T extends Selectable<ApiKeysTable>>(row: T): Omit<T, 'workspaces'> & Pick<ApiKeyRow, 'workspaces'> {
  return { ...row, workspaces: readWorkspaces(row.workspaces) };
}

const MASTER_KEY_HASH = 'master_key_hash';

export async function insertApiKey(db: Db, row: ApiKeyRow): Promise<void> {
  const workspaces = row.workspaces === '*' ? '*' : JSON.stringify(row.workspaces);
  await db
    .insertInto('api_keys')
    .values({ ...row, workspaces })
    .execute();
}

/**
 * The key whose stored prefix matches; the caller still compares the hash in constant time. Runs
 * on every request, so it is SQL text rather than built with the query builder each time.
 */
export async function findApiKeyByPrefix(
  db: Db,
  prefix: string,
): Promise<(ApiKeyRow & { user_email: string }) | undefined> {
  const { rows } = await sql<Selectable<ApiKeysTable> & { user_email: string }>`
    select k.key_id, k.org_id, k.user_id, k.name, k.prefix, k.key_hash, k.workspaces, k.created_at, u.email as user_email
    from api_keys k join users u on u.user_id = k.user_id
    where k.prefix = ${prefix}`.execute(db);
  return rows[0] && keyOf(rows[0]);
}

export async function findApiKey(db: Db, orgId: string, keyId: string): Promise<ApiKeyRow | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('key_id', '=', keyId)
    .executeTakeFirst();
  return row && keyOf(row);
}

export async function listApiKeys(db: Db, orgId: string, page: PageRequest): Promise<Page<ApiKeyRow>> {
  const { rows, total } = await fetchPage(
    db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId),
    [
      { column: 'created_at', direction: 'asc' },
      { column: 'key_id', direction: 'asc' },
    ],
    page,
  );
  return { rows: rows.map(keyOf), total };
}

export async function deleteApiKey(db: Db, orgId: string, keyId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('api_keys')
    .where('org_id', '=', orgId)
    .where('key_id', '=', keyId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function findMasterKeyHash(db: Db): Promise<string | undefined> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', MASTER_KEY_HASH).executeTakeFirst();
  return row?.value;
}

/** Stores the master key hash unless one exists; returns false when another instance won the race. */
export async function insertMasterKeyHash(db: Db, hash: string): Promise<boolean> {
  const result = await db
    .insertInto('settings')
    .values({ key: MASTER_KEY_HASH, value: hash })
    .onConflict((oc) => oc.column('key').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}
