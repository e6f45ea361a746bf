import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { hashKey } from '../../domain/tenancy/api-keys.js';
import type { Principal } from '../../domain/tenancy/principal.js';
import { findMasterKeyHash } from '../../storage/repositories/keys-repository.js';
import * as sessions from '../../storage/repositories/sessions-repository.js';
import type { Database } from '../../storage/schema.js';

type Db = Kysely<Database>;

/** How long a console sign-in lasts; signing out, or revoking the key, ends it sooner. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface ConsoleSession {
  principal: Principal;
  /** The synchronizer token every form and fetch of this session must send back. */
  csrfToken: string;
  /** The key signed in with: its id, or 'master'. */
  keyLabel: string;
}

/** A new random cookie token (256 bits, base64url). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The CSRF token of a cookie token: derived, so it needs no storage, and it reveals nothing of the token. */
export function csrfTokenFor(cookieToken: string): string {
  return createHash('sha256').update(`roster-console-csrf\0${cookieToken}`, 'utf8').digest('base64url');
}

/** Compares a presented token with the expected one in constant time. */
export function tokensEqual(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Stores a session for a principal signed in with `secret`; returns the cookie token. Expired rows are swept on the way. */
export async function createSession(db: Db, principal: Principal, secret: string, now: Date): Promise<string> {
  const token = newToken();
  await sessions.deleteExpiredSessions(db, now.toISOString());
  await sessions.insertSession(db, {
    token_hash: hashKey(token),
    key_id: principal.kind === 'key' ? principal.keyId : null,
    is_master: principal.kind === 'master' ? 1 : 0,
    key_hash: hashKey(secret),
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + SESSION_TTL_MS).toISOString(),
  });
  return token;
}

/**
 * The live session of a cookie token, or undefined. Read with the key it belongs to on every
 * request, so a revoked key (row gone, or hash changed) or a new master key ends it at once.
 */
export async function findSession(
  db: Db,
  token: string,
  masterKey: string | undefined,
  now: Date,
): Promise<ConsoleSession | undefined> {
  if (token.length > 100) return undefined;
  const row = await sessions.findLiveSessionWithKey(db, hashKey(token), now.toISOString());
  if (!row) return undefined;
  const csrfToken = csrfTokenFor(token);
  if (Number(row.is_master) === 1) {
    const masterHash = masterKey !== undefined ? hashKey(masterKey) : await findMasterKeyHash(db);
    if (masterHash === undefined || !tokensEqual(row.key_hash, masterHash)) return undefined;
    return { principal: { kind: 'master' }, csrfToken, keyLabel: 'master key' };
  }
  if (
    row.key_id === null ||
    row.org_id === null ||
    row.user_id === null ||
    row.user_email === null ||
    row.workspaces === null
  )
    return undefined;
  if (row.current_key_hash === null || !tokensEqual(row.key_hash, row.current_key_hash)) return undefined;
  return {
    principal: {
      kind: 'key',
      keyId: row.key_id,
      orgId: row.org_id,
      userId: row.user_id,
      userEmail: row.user_email,
      workspaces: row.workspaces,
    },
    csrfToken,
    keyLabel: row.user_email,
  };
}

/** Ends a session (sign-out): its row is deleted, so no instance accepts the cookie again. */
export async function deleteSession(db: Db, token: string): Promise<void> {
  await sessions.deleteSession(db, hashKey(token));
}
