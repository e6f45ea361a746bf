import { AppError } from '../../errors.js';
import { reachableWorkspaces, type Principal } from '../../domain/tenancy/principal.js';
import * as batches from '../../storage/repositories/batches-repository.js';
import type { BatchStatus } from '../../storage/schema.js';
import { reachableBatch } from './batch-access.js';
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
    callingNumbers: JSON.parse(row.calling_numbers) as string[],
    totalCalls: Number(row.total_calls),
    enableDNC: Number(row.enable_dnc) === 1,
    retry: row.retry,
    delay: row.delay_minutes,
    timezone: row.timezone,
    callingHour: { start: row.calling_start, end: row.calling_end },
    allowedDays: JSON.parse(row.allowed_days) as number[],
    skipped: { invalid: row.skipped_invalid, duplicate: row.skipped_duplicate, dnc: row.skipped_dnc },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface DetailsQuery {
  page: number;
  limit: number;
  filter?: string;
  sortBy: batches.CallQuery['sortBy'];
  sortOrder: 'asc' | 'desc';
  search?: string;
}

/** The vendor's batch-details envelope: one page of calls with their attempt logs. */
export async function batchDetails(deps: BatchDeps, principal: Principal, batchId: string, query: DetailsQuery) {
  const batch = await reachableBatch(deps, principal, batchId);
  let status: string | undefined;
  if (query.filter) {
    let filter: unknown;
    try {
      filter = JSON.parse(query.filter);
    } catch (error) {
      throw new AppError('validation_failed', `filter is not valid JSON: ${(error as Error).message}`, [{ field: '/querystring/filter', message: 'is not valid JSON' }]);
    }
    const keys = filter !== null && typeof filter === 'object' ? Object.keys(filter) : [];
    const value = (filter as { callStatus?: unknown } | null)?.callStatus;
    if (keys.some((k) => k !== 'callStatus') || (value !== undefined && typeof value !== 'string')) {
      throw new AppError('validation_failed', 'filter supports {"callStatus": "<status>"} only.', [{ field: '/querystring/filter', message: 'unsupported filter' }]);
    }
    status = value as string | undefined;
  }
  const offset = (query.page - 1) * query.limit;
  const page = await batches.listCalls(deps.db, batch.batch_id, { offset, limit: query.limit, status, search: query.search, sortBy: query.sortBy, sortOrder: query.sortOrder });
  const logs = await batches.findLogs(deps.db, page.rows.map((c) => c.call_id));
  return {
    message: 'Batch details fetched successfully',
    status: 'success',
    code: 200,
    errorMessage: null,
    data: {
      batchId: batch.batch_id,
      batchName: batch.batch_name,
      batchStatus: batch.status,
      page: query.page,
      limit: query.limit,
      total: page.total,
      totalPages: Math.ceil(page.total / query.limit),
      data: page.rows.map((call) => ({
        ...(JSON.parse(call.variables) as Record<string, string>),
        _id: call.call_id,
        // The vendor shows numbers without the leading +.
        phoneNumber: call.phone.replace(/^\+/, ''),
        callStatus: call.status,
        attempts: call.attempts,
        phoneLogs: (logs.get(call.call_id) ?? []).map((log) => ({
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

export async function listBatches(deps: BatchDeps, principal: Principal, orgId: string, page: { offset: number; limit: number }) {
  const result = await batches.listBatches(deps.db, orgId, reachableWorkspaces(principal), page);
  return { items: result.rows.map(batchSummary), total: result.total };
}

const TRANSITIONS: Record<'pause' | 'resume' | 'cancel', { from: BatchStatus[]; to: BatchStatus }> = {
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  cancel: { from: ['running', 'paused'], to: 'cancelled' },
};

/** Pause, resume or cancel; a cancelled batch's open calls are cancelled so no dialer gets them. */
export async function changeBatchStatus(deps: BatchDeps, principal: Principal, batchId: string, action: keyof typeof TRANSITIONS): Promise<BatchSummary> {
  const batch = await reachableBatch(deps, principal, batchId);
  const transition = TRANSITIONS[action];
  if (!transition.from.includes(batch.status)) {
    throw new AppError('invalid_state', `Cannot ${action} a batch that is ${batch.status}.`, { status: batch.status });
  }
  const now = deps.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    await batches.setBatchStatus(trx, batch.batch_id, transition.to, now);
    if (action === 'cancel') await batches.cancelOpenCalls(trx, batch.batch_id, now);
  });
  return batchSummary((await batches.findBatch(deps.db, batch.batch_id))!);
}
