import { AppError } from '../../errors.js';
import { reachableWorkspaces, type Principal } from '../../domain/tenancy/principal.js';
import * as batches from '../../storage/repositories/batches-repository.js';
import {
  cancelOpenCalls,
  findLogs,
  listCalls,
  type CallLogRow,
  type CallRow,
} from '../../storage/repositories/calls-repository.js';
import type { BatchStatus } from '../../storage/schema.js';
import { findUserById } from '../../storage/repositories/users-repository.js';
import { reachableBatch } from './batch-access.js';
import { callField, parseCallFilter } from './call-query.js';
import type { BatchDeps } from './batch-deps.js';

export interface BatchSummary {
  _id: string;
  batchName: string;
  batchType: string;
  batchStatus: BatchStatus;
  agentId: string;
  userId: string;
  callingNumbers: string[];
  totalCalls: number;
  enableDNC: boolean;
  retry: number;
  delay: number;
  timezone: string;
  callingHour: { start: string; end: string };
  allowedDays: number[];
  skipped: { invalid: number; duplicate: number; dnc: number };
  createdAt: string;
  updatedAt: string;
}

export function batchSummary(row: batches.BatchRow): BatchSummary {
  return {
    _id: row.batch_id,
    batchName: row.batch_name,
    batchType: row.batch_type,
    batchStatus: row.status,
    agentId: row.agent_id,
    userId: row.user_id,
    callingNumbers: row.calling_numbers,
    totalCalls: Number(row.total_calls),
    enableDNC: Number(row.enable_dnc) === 1,
    retry: row.retry,
    delay: row.delay_seconds,
    timezone: row.timezone,
    callingHour: { start: row.calling_start, end: row.calling_end },
    allowedDays: row.allowed_days,
    skipped: { invalid: row.skipped_invalid, duplicate: row.skipped_duplicate, dnc: row.skipped_dnc },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The most calls one page of batch details holds (the vendor names no maximum). */
export const MAX_DETAILS_LIMIT = 1000;

export interface DetailsQuery {
  page: number;
  limit: number;
  filter?: string;
  /** A field of the call by its name in the response (`createdAt`, `phoneNumber`…) or a variable's name. */
  sortBy: string;
  sortOrder: 'asc' | 'desc';
  search?: string;
}

export interface CallWithLogs extends CallRow {
  logs: CallLogRow[];
}

/**
 * A batch and one page of its calls with their attempt logs. A batch id that is not 24 hex
 * characters answers 400 invalid_batch_id; a well-formed one the key does not reach, 404.
 */
export async function batchCalls(
  deps: BatchDeps,
  principal: Principal,
  batchId: string,
  query: DetailsQuery,
): Promise<{ batch: batches.BatchRow; total: number; calls: CallWithLogs[] }> {
  if (!/^[0-9a-fA-F]{24}$/.test(batchId))
    throw new AppError('invalid_batch_id', `Batch id '${batchId.slice(0, 40)}' is not 24 hexadecimal characters.`, [
      { field: '/params/batchId', message: 'is not 24 hexadecimal characters' },
    ]);
  const sortBy = callField(query.sortBy);
  if (!sortBy)
    throw new AppError('invalid_query', 'sortBy cannot be phoneLogs; sort by callStatus or createdAt instead.', [
      { field: '/querystring/sortBy', message: 'cannot be phoneLogs' },
    ]);
  const where = query.filter ? parseCallFilter(query.filter) : [];
  const batch = await reachableBatch(deps, principal, batchId.toLowerCase());
  const page = await listCalls(deps.db, deps.capabilities.expressions, batch.batch_id, {
    offset: (query.page - 1) * query.limit,
    limit: query.limit,
    where,
    search: query.search,
    sortBy,
    sortOrder: query.sortOrder,
  });
  const logs = await findLogs(
    deps.db,
    page.rows.map((c) => c.call_id),
  );
  return {
    batch,
    total: page.total,
    calls: page.rows.map((call) => ({ ...call, logs: logs.get(call.call_id) ?? [] })),
  };
}

/**
 * The vendor's batch-details answer, exactly as documented: each call is its contact's variables
 * plus `_id`, `phoneNumber` (without the +), `phoneLogs` (one per attempt) and `createdAt`.
 */
export async function batchDetails(deps: BatchDeps, principal: Principal, batchId: string, query: DetailsQuery) {
  const { batch, total, calls } = await batchCalls(deps, principal, batchId, query);
  return {
    message: 'Calls fetched successfully',
    status: true as const,
    code: 200,
    errorMessage: '' as const,
    data: {
      batchId: batch.batch_id,
      batchName: batch.batch_name,
      batchStatus: vendorBatchStatus(batch.status),
      page: query.page,
      limit: query.limit,
      total,
      totalPages: Math.ceil(total / query.limit),
      data: calls.map((call) => ({
        ...call.variables,
        _id: call.call_id,
        // The vendor shows numbers without the leading +.
        phoneNumber: call.phone.replace(/^\+/, ''),
        phoneLogs: call.logs.map((log) => ({
          callStatus: log.call_status,
          callDuration: log.call_duration,
          recordingUrl: log.recording_url,
          transcript: log.transcript,
          createdAt: log.created_at,
        })),
        createdAt: call.created_at,
      })),
    },
  };
}

export async function listBatches(
  deps: BatchDeps,
  principal: Principal,
  orgId: string,
  page: { offset: number; limit: number },
) {
  const result = await batches.listBatches(deps.db, orgId, reachableWorkspaces(principal), page);
  return { items: result.rows.map(batchSummary), total: result.total };
}

/** The batch vendor's three queue states. */
export type VendorBatchStatus = 'active' | 'paused' | 'completed';

/**
 * A batch's status as the batch vendor names it: running is `active`; a cancelled batch will dial
 * nothing more, so it is `completed` like a finished one.
 */
export function vendorBatchStatus(status: BatchStatus): VendorBatchStatus {
  if (status === 'running') return 'active';
  if (status === 'paused') return 'paused';
  return 'completed';
}

const BATCH_STATUSES: BatchStatus[] = ['running', 'paused', 'cancelled', 'completed'];

/** The list of GET /api/call/batches/{userId}: the vendor's fields and pagination. */
export async function listUserBatches(
  deps: BatchDeps,
  principal: Principal,
  userId: string,
  query: { page: number; limit: number; search?: string },
) {
  // A key lists its own user's batches only; another user, even of the same org, is not found.
  const user =
    principal.kind === 'key' && principal.userId !== userId ? undefined : await findUserById(deps.db, userId);
  if (!user) throw new AppError('user_not_found', `User '${userId}' not found, or not the user of this key.`);
  const search = query.search?.trim() || undefined;
  const statuses = search ? BATCH_STATUSES.filter((status) => vendorBatchStatus(status) === search.toLowerCase()) : [];
  const page = await batches.listUserBatches(
    deps.db,
    { userId, workspaces: reachableWorkspaces(principal), search, statuses },
    { offset: (query.page - 1) * query.limit, limit: query.limit },
  );
  if (page.total === 0)
    throw new AppError(
      'not_found',
      search ? `No batches of this user match '${search}'.` : 'No batches found for this user.',
    );
  return {
    batches: page.rows.map((row) => ({
      _id: row.batch_id,
      batchName: row.batch_name,
      totalCalls: row.total_calls,
      callsPicked: row.calls_picked,
      callsCompleted: row.calls_completed,
      queue_status: vendorBatchStatus(row.status),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    })),
    pagination: {
      total: page.total,
      page: query.page,
      limit: query.limit,
      totalPages: Math.ceil(page.total / query.limit),
    },
  };
}

const TRANSITIONS: Record<'pause' | 'resume' | 'cancel', { from: BatchStatus[]; to: BatchStatus }> = {
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  cancel: { from: ['running', 'paused'], to: 'cancelled' },
};

/** Pause, resume or cancel; a cancelled batch's open calls are cancelled so no dialer gets them. */
export async function changeBatchStatus(
  deps: BatchDeps,
  principal: Principal,
  batchId: string,
  action: keyof typeof TRANSITIONS,
): Promise<BatchSummary> {
  const batch = await reachableBatch(deps, principal, batchId);
  const transition = TRANSITIONS[action];
  if (!transition.from.includes(batch.status)) {
    throw new AppError('invalid_state', `Cannot ${action} a batch that is ${batch.status}.`, { status: batch.status });
  }
  const now = deps.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    await batches.setBatchStatus(trx, batch.batch_id, transition.to, now);
    if (action === 'cancel') await cancelOpenCalls(trx, batch.batch_id, now);
  });
  return batchSummary((await batches.findBatch(deps.db, batch.batch_id))!);
}
