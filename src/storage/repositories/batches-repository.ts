// Batches: an outbound campaign, its schedule and counters; its calls live in calls-repository.
import { Type } from '@sinclair/typebox';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { jsonColumn } from '../json-column.js';
import type { BatchesTable, BatchStatus, Database } from '../schema.js';
import { fetchPage, type Page, type PageRequest } from './paging.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A batch with its JSON columns parsed. */
export interface BatchRow extends Omit<Selectable<BatchesTable>, 'calling_numbers' | 'allowed_days'> {
  /** Ids of the workspace's phone numbers the batch calls from, in rotation order. */
  calling_numbers: string[];
  /** Days the calling window opens on, 0 = Sunday. */
  allowed_days: number[];
}

/** Also read where calls are joined with their batch (calls-repository). */
export const readCallingNumbers = jsonColumn('batches.calling_numbers', Type.Array(Type.String()));
export const readAllowedDays = jsonColumn('batches.allowed_days', Type.Array(Type.Integer({ minimum: 0, maximum: 6 })));

function batchOf(row: Selectable<BatchesTable>): BatchRow {
  return {
    ...row,
    calling_numbers: readCallingNumbers(row.calling_numbers),
    allowed_days: readAllowedDays(row.allowed_days),
  };
}

export async function insertBatch(db: Db, row: BatchRow): Promise<void> {
  await db
    .insertInto('batches')
    .values({
      ...row,
      calling_numbers: JSON.stringify(row.calling_numbers),
      allowed_days: JSON.stringify(row.allowed_days),
    })
    .execute();
}

export async function findBatch(db: Db, batchId: string): Promise<BatchRow | undefined> {
  const row = await db.selectFrom('batches').selectAll().where('batch_id', '=', batchId).executeTakeFirst();
  return row && batchOf(row);
}

export async function listBatches(
  db: Db,
  orgId: string,
  workspaces: '*' | readonly string[],
  page: PageRequest,
): Promise<Page<BatchRow>> {
  let query = db.selectFrom('batches').selectAll().where('org_id', '=', orgId);
  if (workspaces !== '*')
    query =
      workspaces.length > 0 ? query.where('workspace_id', 'in', [...workspaces]) : query.where((eb) => eb.lit(false));
  const { rows, total } = await fetchPage(
    query,
    [
      { column: 'created_at', direction: 'desc' },
      { column: 'batch_id', direction: 'asc' },
    ],
    page,
  );
  return { rows: rows.map(batchOf), total };
}

/** One batch of a user's list with its call counts. */
export interface UserBatchRow {
  batch_id: string;
  batch_name: string;
  status: BatchStatus;
  total_calls: number;
  calls_picked: number;
  calls_completed: number;
  created_at: string;
  updated_at: string;
}

/**
 * A user's batches in the workspaces given, newest first, with how many calls were picked up
 * (completed or voicemail) and completed. `search` matches the name (substring, any case) or one of
 * `statuses`.
 */
export async function listUserBatches(
  db: Db,
  filter: { userId: string; workspaces: '*' | readonly string[]; search?: string; statuses: BatchStatus[] },
  page: PageRequest,
): Promise<Page<UserBatchRow>> {
  let query = db.selectFrom('batches').where('batches.user_id', '=', filter.userId);
  const { workspaces, search, statuses } = filter;
  if (workspaces !== '*')
    query =
      workspaces.length > 0
        ? query.where('batches.workspace_id', 'in', [...workspaces])
        : query.where((eb) => eb.lit(false));
  if (search) {
    const pattern = `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([
        eb(sql`lower(batches.batch_name)`, 'like', sql`${pattern} escape '\\'`),
        ...(statuses.length > 0 ? [eb('batches.status', 'in', statuses)] : []),
      ]),
    );
  }
  const counted = (statusesCounted: string[]) =>
    sql<number>`(select count(*) from calls where calls.batch_id = batches.batch_id and calls.status in (${sql.join(statusesCounted)}))`;
  const { rows, total } = await fetchPage(
    query.select([
      'batches.batch_id',
      'batches.batch_name',
      'batches.status',
      'batches.total_calls',
      'batches.created_at',
      'batches.updated_at',
      counted(['completed', 'voicemail']).as('calls_picked'),
      counted(['completed']).as('calls_completed'),
    ]),
    [
      { column: 'batches.created_at', direction: 'desc' },
      { column: 'batches.batch_id', direction: 'asc' },
    ],
    page,
  );
  return {
    rows: rows.map((row) => ({
      ...row,
      total_calls: Number(row.total_calls),
      calls_picked: Number(row.calls_picked),
      calls_completed: Number(row.calls_completed),
    })),
    total,
  };
}

export async function setBatchStatus(db: Db, batchId: string, status: BatchStatus, now: string): Promise<void> {
  await db.updateTable('batches').set({ status, updated_at: now }).where('batch_id', '=', batchId).execute();
}

export async function advanceRotation(db: Db, batchId: string, by: number): Promise<void> {
  await db
    .updateTable('batches')
    .set((eb) => ({ rotation: eb('rotation', '+', by) }))
    .where('batch_id', '=', batchId)
    .execute();
}

export async function addToTotal(db: Db, batchId: string, added: number, now: string): Promise<void> {
  await db
    .updateTable('batches')
    .set((eb) => ({ total_calls: eb('total_calls', '+', added), updated_at: now }))
    .where('batch_id', '=', batchId)
    .execute();
}

/** Marks a running batch completed once none of its calls can be dialled again. */
/** Completes a running batch once none of its calls is left to make; true when this call completed it. */
export async function completeBatchIfDone(db: Db, batchId: string, now: string): Promise<boolean> {
  const open = await db
    .selectFrom('calls')
    .select('call_id')
    .where('batch_id', '=', batchId)
    .where('status', 'in', ['pending', 'in_progress'])
    .limit(1)
    .executeTakeFirst();
  if (open) return false;
  const done = await db
    .updateTable('batches')
    .set({ status: 'completed', updated_at: now })
    .where('batch_id', '=', batchId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(done.numUpdatedRows) > 0;
}
