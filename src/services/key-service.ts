import type { Kysely } from 'kysely';
import { AppError } from '../errors.js';
import { generateKey, hashKey, keyMatchesHash, keyPrefix } from '../domain/tenancy/api-keys.js';
import { newSlugId, nowIso } from '../domain/tenancy/ids.js';
import type { Principal } from '../domain/tenancy/principal.js';
import type { Database } from '../storage/schema.js';
import * as keys from '../storage/repositories/keys-repository.js';
import { findOrg } from '../storage/repositories/orgs-repository.js';
import { findUser } from '../storage/repositories/users-repository.js';
import { findWorkspace } from '../storage/repositories/workspaces-repository.js';
import type { PageRequest } from '../storage/repositories/paging.js';
import { isUniqueViolation } from '../storage/db-errors.js';

type Db = Kysely<Database>;

export interface ApiKeyView {
  key_id: string;
  org_id: string;
  user_id: string;
  name: string;
  prefix: string;
  workspaces: '*' | string[];
  created_at: string;
}

function toView(row: keys.ApiKeyRow): ApiKeyView {
  return {
    key_id: row.key_id,
    org_id: row.org_id,
    user_id: row.user_id,
    name: row.name,
    prefix: row.prefix,
    workspaces: row.workspaces,
    created_at: row.created_at,
  };
}

/**
 * Resolves a presented secret to a principal, or undefined. The master key is checked against
 * ROSTER_MASTER_KEY when set, else against the hash stored at first start; API keys are found by
 * their public prefix and their hashes compared in constant time.
 */
export async function authenticate(
  db: Db,
  secret: string,
  configuredMasterKey: string | undefined,
): Promise<Principal | undefined> {
  if (!secret.startsWith('rk_')) {
    const masterHash =
      configuredMasterKey !== undefined ? hashKey(configuredMasterKey) : await keys.findMasterKeyHash(db);
    return masterHash !== undefined && keyMatchesHash(secret, masterHash) ? { kind: 'master' } : undefined;
  }
  if (secret.length > 200) return undefined;
  const row = await keys.findApiKeyByPrefix(db, keyPrefix(secret));
  if (!row || !keyMatchesHash(secret, row.key_hash)) return undefined;
  const view = toView(row);
  return {
    kind: 'key',
    keyId: row.key_id,
    orgId: row.org_id,
    userId: row.user_id,
    userEmail: row.user_email,
    workspaces: view.workspaces,
  };
}

export interface CreateApiKeyInput {
  name: string;
  user_id: string;
  workspaces: '*' | string[];
}

export async function createApiKey(
  db: Db,
  orgId: string,
  input: CreateApiKeyInput,
): Promise<ApiKeyView & { key: string }> {
  if (!(await findOrg(db, orgId))) throw new AppError('not_found', `Org '${orgId}' not found.`);
  if (!(await findUser(db, orgId, input.user_id))) {
    throw new AppError('validation_failed', `User '${input.user_id}' is not a user of org '${orgId}'.`, [
      { field: '/body/user_id', message: 'no such user in this org' },
    ]);
  }
  if (input.workspaces !== '*') {
    const missing: string[] = [];
    for (const workspaceId of new Set(input.workspaces)) {
      if (!(await findWorkspace(db, orgId, workspaceId))) missing.push(workspaceId);
    }
    if (missing.length > 0) {
      throw new AppError('validation_failed', `Workspaces not found in org '${orgId}': ${missing.join(', ')}.`, [
        { field: '/body/workspaces', message: `not found: ${missing.join(', ')}` },
      ]);
    }
  }
  for (;;) {
    const generated = generateKey('rk');
    const row: keys.ApiKeyRow = {
      key_id: newSlugId('key'),
      org_id: orgId,
      user_id: input.user_id,
      name: input.name,
      prefix: generated.prefix,
      key_hash: generated.hash,
      workspaces: input.workspaces === '*' ? '*' : [...new Set(input.workspaces)],
      created_at: nowIso(),
    };
    try {
      await keys.insertApiKey(db, row);
      return { ...toView(row), key: generated.secret };
    } catch (error) {
      // A prefix collision is astronomically rare; draw again rather than fail.
      if (!isUniqueViolation(error)) throw error;
    }
  }
}

export async function listApiKeys(db: Db, orgId: string, page: PageRequest) {
  // Like the org's users: a missing org is a 404, not an empty list.
  if (!(await findOrg(db, orgId))) throw new AppError('not_found', `Org '${orgId}' not found.`);
  const result = await keys.listApiKeys(db, orgId, page);
  return { items: result.rows.map(toView), total: result.total };
}

export async function getApiKey(db: Db, orgId: string, keyId: string): Promise<ApiKeyView> {
  const row = await keys.findApiKey(db, orgId, keyId);
  if (!row) throw new AppError('not_found', `API key '${keyId}' not found.`);
  return toView(row);
}

export async function revokeApiKey(db: Db, orgId: string, keyId: string): Promise<void> {
  if (!(await keys.deleteApiKey(db, orgId, keyId))) throw new AppError('not_found', `API key '${keyId}' not found.`);
}

/** Stores the hash of a newly generated master key; returns the secret, or undefined if one exists. */
export async function generateMasterKey(db: Db): Promise<string | undefined> {
  const generated = generateKey('rmk');
  return (await keys.insertMasterKeyHash(db, generated.hash)) ? generated.secret : undefined;
}
