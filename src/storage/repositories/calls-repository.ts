// Calls: one contact of a batch to dial, its lease while a dialer holds it, and its attempt log.
import { Type } from '@sinclair/typebox';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Capabilities } from '../db.js';
import type { DialectExpressions } from '../dialect-expressions.js';
import { jsonColumn } from '../json-column.js';
import type { CallLogsTable, CallsTable, Database } from '../schema.js';
import { readAllowedDays, readCallingNumbers } from './batches-repository.js';
import type { Page, PageRequest } from './paging.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A call with its contact's variables parsed (names to values, as the sheet gave them). */
export interface CallRow extends Omit<Selectable<CallsTable>, 'variables'> {
  variables: Record<string, string>;
}

export type CallLogRow = Selectable<CallLogsTable>;

const readVariables = jsonColumn('calls.variables', Type.Record(Type.String(), Type.String()));

function callOf<T extends Selectable<CallsTable>>(row: T): Omit<T, 'variables'> & Pick<CallRow, 'variables'> {
  return { ...row, variables: readVariables(row.variables) };
}

/** Inserts calls in slices that stay under SQLite's bound-parameter limit. */
export async function insertCalls(db: Db, rows: CallRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500)
    await db
      .insertInto('calls')
      .values(rows.slice(i, i + 500).map((row) => ({ ...row, variables: JSON.stringify(row.variables) })))
      .execute();
}

export async function findCall(db: Db, callId: string): Promise<CallRow | undefined> {
  const row = await db.selectFrom('calls').selectAll().where('call_id', '=', callId).executeTakeFirst();
  return row && callOf(row);
}

/** The ids of the calls a batch already has for some of these phones, by phone. */
export async function findCallIdsByPhone(db: Db, batchId: string, phones: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (let i = 0; i < phones.length; i += 500) {
    const rows = await db
      .selectFrom('calls')
      .select(['phone', 'call_id'])
      .where('batch_id', '=', batchId)
      .where('phone', 'in', phones.slice(i, i + 500))
      .execute();
    for (const row of rows) found.set(row.phone, row.call_id);
  }
  return found;
}

/** A field of a call that batch details filters and sorts on: one of the call's columns, or a contact variable. */
export type CallField = { column: 'call_id' | 'phone' | 'status' | 'attempts' | 'created_at' } | { variable: string };

export interface CallQuery extends PageRequest {
  /** Every condition must hold: the field's stored value equals `value` exactly. */
  where: Array<{ field: CallField; value: string | number }>;
  search?: string;
  sortBy: CallField;
  sortOrder: 'asc' | 'desc';
}

/**
 * One page of a batch's calls and the number matching. Rows whose sort field is equal, or absent
 * (last in either direction), keep the order they entered the batch: by time added, then by line of
 * the file, then by id.
 */
export async function listCalls(
  db: Db,
  expressions: DialectExpressions,
  batchId: string,
  query: CallQuery,
): Promise<Page<CallRow>> {
  const fieldValue = (field: CallField) =>
    'column' in field ? sql.ref(`calls.${field.column}`) : expressions.jsonText('calls.variables', field.variable);
  let q = db.selectFrom('calls').selectAll().where('batch_id', '=', batchId);
  for (const { field, value } of query.where) q = q.where(fieldValue(field), '=', value);
  if (query.search) {
    const pattern = `%${query.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) =>
      eb.or([
        eb(sql`lower(phone)`, 'like', sql`${pattern} escape '\\'`),
        expressions.jsonAnyValueLike('calls.variables', pattern),
      ]),
    );
  }
  const sorted = fieldValue(query.sortBy);
  // Text sorts by code point on both backends; numbers and ISO timestamps sort as they are.
  const sortKey =
    'column' in query.sortBy && (query.sortBy.column === 'attempts' || query.sortBy.column === 'created_at')
      ? sorted
      : expressions.codePointOrder(sql`${sorted}`);
  const [rows, count] = await Promise.all([
    q
      .orderBy(sql`${sorted} is null`)
      .orderBy(sortKey, query.sortOrder)
      .orderBy('created_at', 'asc')
      .orderBy(sql`row_number is null`)
      .orderBy('row_number', 'asc')
      .orderBy('call_id', 'asc')
      .limit(query.limit)
      .offset(query.offset)
      .execute(),
    q
      .clearSelect()
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('total'))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map(callOf), total: Number(count.total) };
}

/** After a cancel: every call not yet finished will never be dialled. */
export async function cancelOpenCalls(db: Db, batchId: string, now: string): Promise<number> {
  const result = await db
    .updateTable('calls')
    .set({ status: 'cancelled', lease_id: null, lease_until: null, updated_at: now })
    .where('batch_id', '=', batchId)
    .where('status', 'in', ['pending', 'in_progress'])
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Calls that may be due: pending and past their next attempt time, or leased with an expired
 * lease, in running batches. Oldest first. PostgreSQL locks what it returns and skips rows other
 * leases hold, so concurrent dialers never receive the same call.
 */
export async function selectDueCandidates(
  trx: Transaction<Database>,
  capabilities: Capabilities,
  scope: { orgId?: string; workspaces: '*' | readonly string[] },
  now: string,
  limit: number,
) {
  let query = trx
    .selectFrom('calls')
    .innerJoin('batches', 'batches.batch_id', 'calls.batch_id')
    .selectAll('calls')
    .select([
      'batches.timezone as batch_timezone',
      'batches.calling_start',
      'batches.calling_end',
      'batches.allowed_days',
      'batches.retry',
      'batches.calling_numbers',
      'batches.rotation',
    ])
    .where('batches.status', '=', 'running')
    .where((eb) =>
      eb.or([
        eb.and([eb('calls.status', '=', 'pending'), eb('calls.next_attempt_at', '<=', now)]),
        eb.and([eb('calls.status', '=', 'in_progress'), eb('calls.lease_until', '<', now)]),
      ]),
    )
    .orderBy('calls.next_attempt_at')
    .limit(limit);
  if (scope.orgId !== undefined) query = query.where('batches.org_id', '=', scope.orgId);
  if (scope.workspaces !== '*')
    query =
      scope.workspaces.length > 0
        ? query.where('batches.workspace_id', 'in', [...scope.workspaces])
        : query.where((eb) => eb.lit(false));
  const rows = await (capabilities.rowLocking ? query.forUpdate('calls').skipLocked() : query).execute();
  return rows.map((row) => ({
    ...callOf(row),
    allowed_days: readAllowedDays(row.allowed_days),
    calling_numbers: readCallingNumbers(row.calling_numbers),
  }));
}

export async function leaseCall(
  db: Db,
  callId: string,
  lease: { leaseId: string; until: string; callerNumber: string; now: string },
): Promise<void> {
  await db
    .updateTable('calls')
    .set((eb) => ({
      status: 'in_progress',
      attempts: eb('attempts', '+', 1),
      lease_id: lease.leaseId,
      lease_until: lease.until,
      caller_number: lease.callerNumber,
      updated_at: lease.now,
    }))
    .where('call_id', '=', callId)
    .execute();
}

export async function deferCall(db: Db, callId: string, nextAttemptAt: string, now: string): Promise<void> {
  await db
    .updateTable('calls')
    .set({ status: 'pending', next_attempt_at: nextAttemptAt, lease_id: null, lease_until: null, updated_at: now })
    .where('call_id', '=', callId)
    .execute();
}

export async function finishCall(db: Db, callId: string, status: string, now: string): Promise<void> {
  await db
    .updateTable('calls')
    .set({ status, lease_id: null, lease_until: null, updated_at: now })
    .where('call_id', '=', callId)
    .execute();
}

export async function insertLog(db: Db, row: CallLogRow): Promise<void> {
  await db.insertInto('call_logs').values(row).execute();
}

export async function findLogs(db: Db, callIds: string[]): Promise<Map<string, CallLogRow[]>> {
  const logs = new Map<string, CallLogRow[]>();
  if (callIds.length === 0) return logs;
  const rows = await db
    .selectFrom('call_logs')
    .selectAll()
    .where('call_id', 'in', callIds)
    .orderBy('attempt')
    .execute();
  for (const row of rows) logs.set(row.call_id, [...(logs.get(row.call_id) ?? []), row]);
  return logs;
}
