import type { Kysely } from 'kysely';
import { AppError } from '../errors.js';
import { generateKey, hashKey, keyMatchesHash, keyPrefix } from '../domain/tenancy/api-keys.js';
import { newSlugId, nowIso } from '../domain/tenancy/ids.js';
import type { Principal } from '../domain/tenancy/principal.js';
import type { Storage } from '../storage/db.js';
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

/** The key a secret's public prefix names, as the principal it acts as and the hash to compare with. */
interface StoredKey {
  keyHash: string;
  principal: Principal;
}

async function keyByPrefix(db: Db, prefix: string): Promise<StoredKey | undefined> {
  const row = await keys.findApiKeyByPrefix(db, prefix);
  if (!row) return undefined;
  // Frozen: a cached principal is shared by every request that presents the key.
  const principal: Principal = Object.freeze({
    kind: 'key',
    keyId: row.key_id,
    orgId: row.org_id,
    userId: row.user_id,
    userEmail: row.user_email,
    workspaces: row.workspaces === '*' ? '*' : Object.freeze([...row.workspaces]),
  });
  return { keyHash: row.key_hash, principal };
}

/** The key's principal when the secret hashes to its stored hash (compared in constant time). */
function principalFor(secret: string, key: StoredKey | undefined): Principal | undefined {
  return key && keyMatchesHash(secret, key.keyHash) ? key.principal : undefined;
}

/** API keys are at most this long; a longer secret is refused without a database read. */
const MAX_SECRET_LENGTH = 200;

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
  if (secret.length > MAX_SECRET_LENGTH) return undefined;
  return principalFor(secret, await keyByPrefix(db, keyPrefix(secret)));
}

export interface KeyCacheOptions {
  /** How long an entry is used at most, even when no change was seen (default 60 s). */
  ttlMs?: number;
  /** Entries kept at most; the oldest goes first (default 10,000). */
  maxEntries?: number;
  /** The clock, in milliseconds. */
  now?: () => number;
}

interface CachedKey extends StoredKey {
  version: number;
  expiresAt: number;
}

/**
 * `authenticate` for every request, without reading the key from the database each time. It keeps
 * what it read of a key (its hash and principal, never the secret) by the key's public prefix, with
 * the version of `storage.keyChanges` read before the database was: an entry is used only while
 * that version is unchanged, so a key revoked, or its user or org deleted, by this or any other
 * process, is refused by the next request (on PostgreSQL, once the notification arrives: within
 * milliseconds). While changes cannot be seen (the listening connection is down), every key is read
 * from the database. The secret is still hashed and compared in constant time on every request.
 * Unknown prefixes are not kept, and the master key is checked as before.
 */
export function cachedAuthenticator(
  storage: Pick<Storage, 'db' | 'keyChanges'>,
  configuredMasterKey: string | undefined,
  options: KeyCacheOptions = {},
): (secret: string) => Promise<Principal | undefined> {
  const { ttlMs = 60_000, maxEntries = 10_000, now = Date.now } = options;
  const entries = new Map<string, CachedKey>();
  return async (secret) => {
    if (!secret.startsWith('rk_') || secret.length > MAX_SECRET_LENGTH)
      return authenticate(storage.db, secret, configuredMasterKey);
    const prefix = keyPrefix(secret);
    const version = storage.keyChanges.version();
    const cached = entries.get(prefix);
    if (cached && cached.version === version && cached.expiresAt > now()) return principalFor(secret, cached);
    if (cached) entries.delete(prefix);
    const key = await keyByPrefix(storage.db, prefix);
    if (!key) return undefined;
    if (version !== undefined) {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(prefix, { ...key, version, expiresAt: now() + ttlMs });
    }
    return principalFor(secret, key);
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
