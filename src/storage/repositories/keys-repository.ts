import { sql, type Kysely, type Selectable } from 'kysely';
import type { ApiKeysTable, Database } from '../schema.js';
import { fetchPage, type Page, type PageRequest } from './paging.js';

type Db = Kysely<Database>;
export type ApiKeyRow = Selectable<ApiKeysTable>;

const MASTER_KEY_HASH = 'master_key_hash';

export async function insertApiKey(db: Db, row: ApiKeyRow): Promise<void> {
  await db.insertInto('api_keys').values(row).execute();
}

/**
 * The key whose stored prefix matches; the caller still compares the hash in constant time. Runs
 * on every request, so it is SQL text rather than built with the query builder each time.
 */
export async function findApiKeyByPrefix(db: Db, prefix: string): Promise<(ApiKeyRow & { user_email: string }) | undefined> {
  const { rows } = await sql<ApiKeyRow & { user_email: string }>`
    select k.key_id, k.org_id, k.user_id, k.name, k.prefix, k.key_hash, k.workspaces, k.created_at, u.email as user_email
    from api_keys k join users u on u.user_id = k.user_id
    where k.prefix = ${prefix}`.execute(db);
  return rows[0];
}

export function findApiKey(db: Db, orgId: string, keyId: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId).where('key_id', '=', keyId).executeTakeFirst();
}

export function listApiKeys(db: Db, orgId: string, page: PageRequest): Promise<Page<ApiKeyRow>> {
  return fetchPage(
    db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId),
    [{ column: 'created_at', direction: 'asc' }, { column: 'key_id', direction: 'asc' }],
    page,
  );
}

export async function deleteApiKey(db: Db, orgId: string, keyId: string): Promise<boolean> {
  const result = await db.deleteFrom('api_keys').where('org_id', '=', orgId).where('key_id', '=', keyId).executeTakeFirst();
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
