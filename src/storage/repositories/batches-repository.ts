import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Capabilities } from '../db.js';
import type { BatchesTable, BatchStatus, CallLogsTable, CallsTable, Database } from '../schema.js';
import { fetchPage, type Page, type PageRequest } from './paging.js';

type Db = Kysely<Database> | Transaction<Database>;
export type BatchRow = Selectable<BatchesTable>;
export type CallRow = Selectable<CallsTable>;
export type CallLogRow = Selectable<CallLogsTable>;

export async function insertBatch(db: Db, row: BatchRow): Promise<void> {
  await db.insertInto('batches').values(row).execute();
}

/** Inserts calls in slices that stay under SQLite's bound-parameter limit. */
export async function insertCalls(db: Db, rows: CallRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) await db.insertInto('calls').values(rows.slice(i, i + 500)).execute();
}

export function findBatch(db: Db, batchId: string): Promise<BatchRow | undefined> {
  return db.selectFrom('batches').selectAll().where('batch_id', '=', batchId).executeTakeFirst();
}

export function listBatches(db: Db, orgId: string, workspaces: '*' | readonly string[], page: PageRequest): Promise<Page<BatchRow>> {
  let query = db.selectFrom('batches').selectAll().where('org_id', '=', orgId);
  if (workspaces !== '*') query = workspaces.length > 0 ? query.where('workspace_id', 'in', [...workspaces]) : query.where((eb) => eb.lit(false));
  return fetchPage(query, [{ column: 'created_at', direction: 'desc' }, { column: 'batch_id', direction: 'asc' }], page);
}

export async function setBatchStatus(db: Db, batchId: string, status: BatchStatus, now: string): Promise<void> {
  await db.updateTable('batches').set({ status, updated_at: now }).where('batch_id', '=', batchId).execute();
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

export interface CallQuery extends PageRequest {
  status?: string;
  search?: string;
  sortBy: 'createdAt' | 'phoneNumber' | 'callStatus' | 'attempts';
  sortOrder: 'asc' | 'desc';
}

const SORT_COLUMNS = { createdAt: 'created_at', phoneNumber: 'phone', callStatus: 'status', attempts: 'attempts' } as const;

export function listCalls(db: Db, batchId: string, query: CallQuery): Promise<Page<CallRow>> {
  let q = db.selectFrom('calls').selectAll().where('batch_id', '=', batchId);
  if (query.status) q = q.where('status', '=', query.status);
  if (query.search) {
    const pattern = `%${query.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) => eb.or([eb(sql`lower(phone)`, 'like', sql`${pattern} escape '\\'`), eb(sql`lower(variables)`, 'like', sql`${pattern} escape '\\'`)]));
  }
  return fetchPage(q, [{ column: SORT_COLUMNS[query.sortBy], direction: query.sortOrder }, { column: 'call_id', direction: 'asc' }], query);
}

export async function findLogs(db: Db, callIds: string[]): Promise<Map<string, CallLogRow[]>> {
  const logs = new Map<string, CallLogRow[]>();
  if (callIds.length === 0) return logs;
  const rows = await db.selectFrom('call_logs').selectAll().where('call_id', 'in', callIds).orderBy('attempt').execute();
  for (const row of rows) logs.set(row.call_id, [...(logs.get(row.call_id) ?? []), row]);
  return logs;
}

export function findCall(db: Db, callId: string): Promise<CallRow | undefined> {
  return db.selectFrom('calls').selectAll().where('call_id', '=', callId).executeTakeFirst();
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
    .select(['batches.timezone as batch_timezone', 'batches.calling_start', 'batches.calling_end', 'batches.allowed_days', 'batches.retry', 'batches.calling_numbers', 'batches.rotation'])
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
  if (scope.workspaces !== '*') query = scope.workspaces.length > 0 ? query.where('batches.workspace_id', 'in', [...scope.workspaces]) : query.where((eb) => eb.lit(false));
  return (capabilities.rowLocking ? query.forUpdate('calls').skipLocked() : query).execute();
}

export async function leaseCall(db: Db, callId: string, lease: { leaseId: string; until: string; callerNumber: string; now: string }): Promise<void> {
  await db
    .updateTable('calls')
    .set((eb) => ({ status: 'in_progress', attempts: eb('attempts', '+', 1), lease_id: lease.leaseId, lease_until: lease.until, caller_number: lease.callerNumber, updated_at: lease.now }))
    .where('call_id', '=', callId)
    .execute();
}

export async function deferCall(db: Db, callId: string, nextAttemptAt: string, now: string): Promise<void> {
  await db.updateTable('calls').set({ status: 'pending', next_attempt_at: nextAttemptAt, lease_id: null, lease_until: null, updated_at: now }).where('call_id', '=', callId).execute();
}

export async function finishCall(db: Db, callId: string, status: string, now: string): Promise<void> {
  await db.updateTable('calls').set({ status, lease_id: null, lease_until: null, updated_at: now }).where('call_id', '=', callId).execute();
}

export async function advanceRotation(db: Db, batchId: string, by: number): Promise<void> {
  await db.updateTable('batches').set((eb) => ({ rotation: eb('rotation', '+', by) })).where('batch_id', '=', batchId).execute();
}

export async function insertLog(db: Db, row: CallLogRow): Promise<void> {
  await db.insertInto('call_logs').values(row).execute();
}

/** Marks a running batch completed once none of its calls can be dialled again. */
export async function completeBatchIfDone(db: Db, batchId: string, now: string): Promise<void> {
  const open = await db.selectFrom('calls').select('call_id').where('batch_id', '=', batchId).where('status', 'in', ['pending', 'in_progress']).limit(1).executeTakeFirst();
  if (!open) await db.updateTable('batches').set({ status: 'completed', updated_at: now }).where('batch_id', '=', batchId).where('status', '=', 'running').execute();
}

// Do-not-call list
export async function findDncAmong(db: Db, orgId: string, workspaceId: string, phones: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < phones.length; i += 500) {
    const rows = await db.selectFrom('dnc_numbers').select('phone').where('org_id', '=', orgId).where('workspace_id', '=', workspaceId).where('phone', 'in', phones.slice(i, i + 500)).execute();
    for (const row of rows) found.add(row.phone);
  }
  return found;
}

export async function insertDnc(db: Db, orgId: string, workspaceId: string, phones: string[], reason: string | null, now: string): Promise<number> {
  let added = 0;
  for (let i = 0; i < phones.length; i += 500) {
    const result = await db
      .insertInto('dnc_numbers')
      .values(phones.slice(i, i + 500).map((phone) => ({ org_id: orgId, workspace_id: workspaceId, phone, reason, created_at: now })))
      .onConflict((oc) => oc.columns(['org_id', 'workspace_id', 'phone']).doNothing())
      .executeTakeFirst();
    added += Number(result.numInsertedOrUpdatedRows ?? 0n);
  }
  return added;
}

export async function deleteDnc(db: Db, orgId: string, workspaceId: string, phone: string): Promise<boolean> {
  const result = await db.deleteFrom('dnc_numbers').where('org_id', '=', orgId).where('workspace_id', '=', workspaceId).where('phone', '=', phone).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function listDnc(db: Db, orgId: string, workspaceId: string, page: PageRequest) {
  return fetchPage(
    db.selectFrom('dnc_numbers').selectAll().where('org_id', '=', orgId).where('workspace_id', '=', workspaceId),
    [{ column: 'created_at', direction: 'desc' }, { column: 'phone', direction: 'asc' }],
    page,
  );
}

export async function findPhonesInBatch(db: Db, batchId: string, phones: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < phones.length; i += 500) {
    const rows = await db.selectFrom('calls').select('phone').where('batch_id', '=', batchId).where('phone', 'in', phones.slice(i, i + 500)).execute();
    for (const row of rows) found.add(row.phone);
  }
  return found;
}

export async function addToTotal(db: Db, batchId: string, added: number, now: string): Promise<void> {
  await db.updateTable('batches').set((eb) => ({ total_calls: eb('total_calls', '+', added), updated_at: now })).where('batch_id', '=', batchId).execute();
}
