import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { Database, IdempotencyKeysTable } from '../schema.js';

type Db = Kysely<Database>;

export type IdempotencyRow = Selectable<IdempotencyKeysTable>;

export interface KeyRef {
  orgId: string;
  key: string;
}

/** The key's row while `holder` holds it. */
function heldBy(ref: KeyRef, holder: string) {
  return (eb: ExpressionBuilder<Database, 'idempotency_keys'>) =>
    eb.and([eb('org_id', '=', ref.orgId), eb('idempotency_key', '=', ref.key), eb('holder', '=', holder)]);
}

/** The key's row still as `seen` read it (same claim, same holder): the compare of a compare-and-set. */
function unchangedSince(seen: IdempotencyRow) {
  return (eb: ExpressionBuilder<Database, 'idempotency_keys'>) =>
    eb.and([
      eb('org_id', '=', seen.org_id),
      eb('idempotency_key', '=', seen.idempotency_key),
      eb('created_at', '=', seen.created_at),
      seen.holder === null ? eb('holder', 'is', null) : eb('holder', '=', seen.holder),
    ]);
}

export interface NewClaim {
  method: string;
  path: string;
  requestHash: string | null;
  holder: string;
  now: string;
  lockedUntil: string;
  expiresAt: string;
}

/** Claims a key nobody holds: true when this call inserted it (a concurrent claim of the same key gets false). */
export async function insertClaim(db: Db, ref: KeyRef, claim: NewClaim): Promise<boolean> {
  const result = await db
    .insertInto('idempotency_keys')
    .values({
      org_id: ref.orgId,
      idempotency_key: ref.key,
      method: claim.method,
      path: claim.path,
      request_hash: claim.requestHash,
      holder: claim.holder,
      locked_until: claim.lockedUntil,
      created_at: claim.now,
      expires_at: claim.expiresAt,
    })
    .onConflict((oc) => oc.columns(['org_id', 'idempotency_key']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function findKey(db: Db, ref: KeyRef): Promise<IdempotencyRow | undefined> {
  return db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('org_id', '=', ref.orgId)
    .where('idempotency_key', '=', ref.key)
    .executeTakeFirst();
}

/**
 * Takes a key over from what `seen` shows: an expired key (answered, or whose holder stopped renewing
 * it), or the key of a request whose holder died before it created anything. Compare-and-set on the
 * holder and expiry read, so of two requests taking over the same key one wins.
 */
export async function takeOver(db: Db, seen: IdempotencyRow, claim: NewClaim): Promise<boolean> {
  const result = await db
    .updateTable('idempotency_keys')
    .set({
      method: claim.method,
      path: claim.path,
      request_hash: claim.requestHash,
      holder: claim.holder,
      locked_until: claim.lockedUntil,
      created_at: claim.now,
      expires_at: claim.expiresAt,
      response_status: null,
      response_headers: null,
      response_body: null,
      recovery_status: null,
      recovery_body: null,
    })
    .where(unchangedSince(seen))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Takes over a key whose holder died after creating its resource (`recovery_*` written): the new
 * holder answers the recorded resource and stores that answer. The request's hash is kept.
 */
export async function takeOverRecovered(db: Db, seen: IdempotencyRow, holder: string, lockedUntil: string) {
  const result = await db
    .updateTable('idempotency_keys')
    .set({ holder, locked_until: lockedUntil })
    .where(unchangedSince(seen))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Keeps a running request's claim alive; false when it is no longer this holder's. */
export async function renewClaim(db: Db, ref: KeyRef, holder: string, lockedUntil: string): Promise<boolean> {
  const result = await db
    .updateTable('idempotency_keys')
    .set({ locked_until: lockedUntil })
    .where(heldBy(ref, holder))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Written in the transaction that creates the resource: the answer a repeat gives when this
 * holder dies before answering. False when the key is no longer this holder's (it stalled past its
 * lease and another request took the key over): the caller rolls its create back.
 */
export async function recordRecovery(
  db: Db,
  ref: KeyRef,
  holder: string,
  answer: { status: number; body: string; requestHash: string | null },
): Promise<boolean> {
  const result = await db
    .updateTable('idempotency_keys')
    .set((eb) => ({
      recovery_status: answer.status,
      recovery_body: answer.body,
      request_hash: answer.requestHash ?? eb.ref('request_hash'),
    }))
    .where(heldBy(ref, holder))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Stores the answer a successful request gave, for repeats; the key stays until `expires_at`. */
export async function storeAnswer(
  db: Db,
  ref: KeyRef,
  holder: string,
  answer: { status: number; headers: string; body: string; requestHash: string | null },
): Promise<boolean> {
  const result = await db
    .updateTable('idempotency_keys')
    .set({
      response_status: answer.status,
      response_headers: answer.headers,
      response_body: answer.body,
      request_hash: answer.requestHash,
      holder: null,
      locked_until: null,
    })
    .where(heldBy(ref, holder))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Lets a key go after an answer that is not kept (an error): the client may send the request again
 * with the same key. A key whose resource was created (`recovery_*`) is not deleted: its lock ends
 * now, and a repeat answers that resource.
 */
export async function releaseClaim(db: Db, ref: KeyRef, holder: string, now: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where(heldBy(ref, holder)).where('recovery_status', 'is', null).execute();
  await db.updateTable('idempotency_keys').set({ locked_until: now }).where(heldBy(ref, holder)).execute();
}

/** Deletes keys past their retention whose request is no longer running. */
export async function deleteExpiredKeys(db: Db, now: string): Promise<number> {
  const result = await db
    .deleteFrom('idempotency_keys')
    .where('expires_at', '<=', now)
    .where((eb) => eb.or([eb('holder', 'is', null), eb('locked_until', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
