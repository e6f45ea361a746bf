import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';
import type { CallingWindow } from '../../domain/scheduling/calling-window.js';
import { isWithinWindow, nextWindowOpening } from '../../domain/scheduling/window-clock.js';
import {
  ATTEMPT_OUTCOMES,
  maxAttempts,
  nextAttempt,
  type AttemptOutcome,
} from '../../domain/scheduling/retry-policy.js';
import { newHex24Id } from '../../domain/tenancy/ids.js';
import { reachableWorkspaces, type Principal } from '../../domain/tenancy/principal.js';
import { AppError } from '../../errors.js';
import { advanceRotation, completeBatchIfDone, findBatch } from '../../storage/repositories/batches-repository.js';
import { announce } from '../webhooks/webhook-service.js';
import { batchSummary } from './batch-service.js';
import {
  deferCall,
  findCall,
  finishCall,
  insertLog,
  leaseCall,
  selectDueCandidates,
} from '../../storage/repositories/calls-repository.js';
import { findPhoneNumberById } from '../../storage/repositories/phone-numbers-repository.js';
import { reachableBatch } from './batch-access.js';
import type { BatchDeps } from './batch-deps.js';

export interface LeasedCall {
  callId: string;
  leaseId: string;
  batchId: string;
  phoneNumber: string;
  callerNumber: string;
  attempt: number;
  variables: Record<string, string>;
  timezone: string;
  leaseExpiresAt: string;
}

function windowOf(row: {
  batch_timezone: string;
  calling_start: string;
  calling_end: string;
  allowed_days: number[];
}): CallingWindow {
  return {
    timezone: row.batch_timezone,
    start: row.calling_start,
    end: row.calling_end,
    allowedDays: row.allowed_days,
  };
}

/** Completes the batch once none of its calls is left to make, and announces it in the same transaction. */
export async function completeIfDone(
  deps: Pick<BatchDeps, 'config'>,
  trx: Kysely<Database>,
  batchId: string,
  now: Date,
): Promise<void> {
  if (!(await completeBatchIfDone(trx, batchId, now.toISOString()))) return;
  const batch = await findBatch(trx, batchId);
  if (batch)
    await announce(
      trx,
      { orgId: batch.org_id, workspaceId: batch.workspace_id, type: 'batch.completed', data: batchSummary(batch) },
      deps.config.jobs.maxAttempts,
      now,
    );
}

/**
 * Leases up to `max` calls that are due now: batch running, next attempt reached (or an earlier
 * lease expired), and the contact's local time inside the batch's calling window on an allowed
 * day. Calls found outside their window are moved to their next opening instead. One transaction;
 * PostgreSQL skips rows another lease holds, so concurrent dialers never get the same call.
 */
export async function leaseCalls(
  deps: BatchDeps,
  principal: Principal,
  max: number,
  leaseSeconds: number,
): Promise<LeasedCall[]> {
  const now = deps.now();
  const nowIso = now.toISOString();
  const until = new Date(now.getTime() + leaseSeconds * 1000).toISOString();
  const scope = {
    orgId: principal.kind === 'key' ? principal.orgId : undefined,
    workspaces: reachableWorkspaces(principal),
  };
  return deps.db.transaction().execute(async (trx) => {
    const leased: LeasedCall[] = [];
    const callerNumbers = new Map<string, string[]>();
    const rotations = new Map<string, number>();
    // Ask for more than `max`: some candidates turn out to be outside their window.
    const candidates = await selectDueCandidates(trx, deps.capabilities, scope, nowIso, Math.min(5000, max * 4));
    for (const call of candidates) {
      if (leased.length >= max) break;
      if (call.status === 'in_progress' && call.attempts >= maxAttempts(call.retry)) {
        // The last permitted attempt's lease expired without a report.
        await finishCall(trx, call.call_id, 'failed', nowIso);
        await completeIfDone(deps, trx, call.batch_id, now);
        continue;
      }
      const window = windowOf(call);
      const zone = call.timezone ?? window.timezone;
      if (!isWithinWindow(window, now, zone)) {
        await deferCall(trx, call.call_id, nextWindowOpening(window, now, zone).toISOString(), nowIso);
        continue;
      }
      let numbers = callerNumbers.get(call.batch_id);
      if (!numbers) {
        numbers = (await Promise.all(call.calling_numbers.map((id) => findPhoneNumberById(trx, id))))
          .filter((n) => n !== undefined)
          .map((n) => n.phone_number);
        callerNumbers.set(call.batch_id, numbers);
      }
      if (numbers.length === 0) continue;
      const turn = rotations.get(call.batch_id) ?? 0;
      rotations.set(call.batch_id, turn + 1);
      const callerNumber = numbers[(call.rotation + turn) % numbers.length]!;
      const leaseId = randomUUID();
      await leaseCall(trx, call.call_id, { leaseId, until, callerNumber, now: nowIso });
      leased.push({
        callId: call.call_id,
        leaseId,
        batchId: call.batch_id,
        phoneNumber: call.phone,
        callerNumber,
        attempt: call.attempts + 1,
        variables: call.variables,
        timezone: zone,
        leaseExpiresAt: until,
      });
    }
    for (const [batchId, turns] of rotations) await advanceRotation(trx, batchId, turns);
    return leased;
  });
}

export interface CallReport {
  callId: string;
  leaseId: string;
  callStatus: string;
  callDuration?: number;
  recordingUrl?: string;
  transcript?: string;
}

/** Records one attempt's outcome; schedules a retry after `delay` (inside the window) or finishes the call. */
export async function reportCall(deps: BatchDeps, principal: Principal, report: CallReport) {
  if (!(ATTEMPT_OUTCOMES as readonly string[]).includes(report.callStatus)) {
    throw new AppError('validation_failed', `callStatus must be one of ${ATTEMPT_OUTCOMES.join(', ')}.`, [
      { field: '/body/callStatus', message: 'unknown status' },
    ]);
  }
  const call = /^[0-9a-f]{24}$/.test(report.callId) ? await findCall(deps.db, report.callId) : undefined;
  if (!call) throw new AppError('not_found', `Call '${report.callId}' not found.`);
  const batch = await reachableBatch(deps, principal, call.batch_id);
  const now = deps.now();
  const nowIso = now.toISOString();
  if (call.status !== 'in_progress' || call.lease_id !== report.leaseId || (call.lease_until ?? '') < nowIso) {
    throw new AppError(
      'lease_not_held',
      `Call '${call.call_id}' is not leased under lease '${report.leaseId}': the lease expired or was never granted. Lease the call again.`,
    );
  }
  const schedule = {
    window: {
      timezone: batch.timezone,
      start: batch.calling_start,
      end: batch.calling_end,
      allowedDays: batch.allowed_days,
    },
    retry: batch.retry,
    delaySeconds: batch.delay_seconds,
  };
  const next = nextAttempt(
    schedule,
    call.attempts,
    report.callStatus as AttemptOutcome,
    now,
    call.timezone ?? undefined,
  );
  const answer = {
    success: true,
    call: {
      _id: call.call_id,
      callStatus: next.retry ? 'pending' : next.finalStatus,
      attempts: call.attempts,
      nextAttemptAt: next.retry ? next.at.toISOString() : null,
    },
  };
  await deps.db.transaction().execute(async (trx) => {
    await insertLog(trx, {
      log_id: newHex24Id(),
      call_id: call.call_id,
      attempt: call.attempts,
      call_status: report.callStatus,
      call_duration: report.callDuration ?? null,
      recording_url: report.recordingUrl ?? null,
      transcript: report.transcript ?? null,
      caller_number: call.caller_number,
      created_at: nowIso,
    });
    if (next.retry) await deferCall(trx, call.call_id, next.at.toISOString(), nowIso);
    else await finishCall(trx, call.call_id, next.finalStatus, nowIso);
    await announce(
      trx,
      {
        orgId: batch.org_id,
        workspaceId: batch.workspace_id,
        type: 'call.reported',
        data: {
          ...answer.call,
          batchId: call.batch_id,
          phoneNumber: call.phone,
          reported: {
            callStatus: report.callStatus,
            callDuration: report.callDuration ?? null,
            recordingUrl: report.recordingUrl ?? null,
          },
        },
      },
      deps.config.jobs.maxAttempts,
      now,
    );
    await completeIfDone(deps, trx, call.batch_id, now);
  });
  return answer;
}
