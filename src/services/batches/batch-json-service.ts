import { newHex24Id } from '../../domain/tenancy/ids.js';
import type { Principal } from '../../domain/tenancy/principal.js';
import { AppError } from '../../errors.js';
import * as batches from '../../storage/repositories/batches-repository.js';
import { findAgent, findPhoneNumberById } from '../../storage/repositories/tenants-repository.js';
import type { AgentVariable } from '../tenancy-service.js';
import { reachableBatch } from './batch-access.js';
import type { BatchDeps } from './batch-deps.js';
import { parseBatchFields } from './batch-fields.js';
import { batchSummary, type BatchSummary } from './batch-service.js';
import { batchRow, callRows, resolveTarget } from './batch-upload-service.js';
import { callingCountry, contactChecker } from './contact-rules.js';

export interface CreateBatchInput {
  userId: string;
  batchName: string;
  batchType?: string;
  callingNumbers: string[];
  enableDNC?: boolean;
  retry?: number;
  delay?: number;
  timezone?: string;
  callingHour?: { start: string; end: string };
  allowedDays?: number[];
}

/** An empty batch from JSON: the same fields and rules as the upload form, typed as JSON. */
export async function createEmptyBatch(deps: BatchDeps, principal: Principal, input: CreateBatchInput): Promise<BatchSummary> {
  const text = (value: unknown) => (value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value));
  const fields = parseBatchFields({
    userId: input.userId,
    batchName: input.batchName,
    batchType: input.batchType,
    callingNumbers: JSON.stringify(input.callingNumbers),
    enableDNC: text(input.enableDNC),
    retry: text(input.retry),
    delay: text(input.delay),
    timezone: input.timezone,
    callingHour: text(input.callingHour),
    allowedDays: text(input.allowedDays),
  });
  const target = await resolveTarget(deps, principal, fields);
  const batchId = newHex24Id();
  await batches.insertBatch(deps.db, batchRow(deps, batchId, target, fields, { total: 0, invalid: 0, duplicate: 0, dnc: 0 }));
  return batchSummary((await batches.findBatch(deps.db, batchId))!);
}

export type CallResult = { index: number; status: 'created'; callId: string } | { index: number; status: 'invalid' | 'duplicate' | 'dnc'; reason: string; column?: string | null };

/**
 * Adds up to 1000 calls to a running or paused batch. Each call is checked like a file row; those
 * that pass are written in one transaction. 200 when all were added, 207 when some were refused
 * (each listed), 422 when none was.
 */
export async function addCalls(deps: BatchDeps, principal: Principal, batchId: string, calls: Array<Record<string, string>>): Promise<{ status: 200 | 207; body: { success: true; created: number; results: CallResult[] } }> {
  const batch = await reachableBatch(deps, principal, batchId);
  if (batch.status !== 'running' && batch.status !== 'paused') throw new AppError('invalid_state', `Calls cannot be added to a ${batch.status} batch.`);
  const agent = await findAgent(deps.db, batch.org_id, batch.workspace_id, batch.agent_id);
  const variables = agent ? (JSON.parse(agent.variables) as AgentVariable[]) : [];
  const firstNumber = await findPhoneNumberById(deps.db, (JSON.parse(batch.calling_numbers) as string[])[0] ?? '');
  const country = firstNumber ? callingCountry(firstNumber.phone_number) : undefined;

  const results: CallResult[] = [];
  const accepted = new Map<string, { index: number; variables: Record<string, string>; timezone: string | null }>();
  calls.forEach((call, index) => {
    const header = Object.keys(call);
    const contact = contactChecker(header, variables, country)(header.map((key) => call[key] ?? ''));
    if (!contact.ok) results.push({ index, status: 'invalid', reason: contact.reason, column: contact.column });
    else if (accepted.has(contact.phone)) results.push({ index, status: 'duplicate', reason: `repeats call ${accepted.get(contact.phone)!.index} of this request` });
    else accepted.set(contact.phone, { index, variables: contact.variables, timezone: contact.timezone });
  });
  const phones = [...accepted.keys()];
  const existing = await batches.findPhonesInBatch(deps.db, batch.batch_id, phones);
  const dnc = Number(batch.enable_dnc) === 1 ? await batches.findDncAmong(deps.db, batch.org_id, batch.workspace_id, phones) : new Set<string>();
  for (const phone of phones) {
    const entry = accepted.get(phone)!;
    if (existing.has(phone)) results.push({ index: entry.index, status: 'duplicate', reason: `${phone} is already in this batch` });
    else if (dnc.has(phone)) results.push({ index: entry.index, status: 'dnc', reason: `${phone} is on the do-not-call list` });
    else continue;
    accepted.delete(phone);
  }
  const rows = callRows(deps, batch.batch_id, [...accepted].map(([phone, entry]) => ({ phone, line: null, variables: entry.variables, timezone: entry.timezone })));
  [...accepted.values()].forEach((entry, i) => results.push({ index: entry.index, status: 'created', callId: rows[i]!.call_id }));
  results.sort((a, b) => a.index - b.index);
  if (rows.length === 0) throw new AppError('invalid_rows', 'No call was added; each is listed with the reason.', { rows: results });
  await deps.db.transaction().execute(async (trx) => {
    await batches.insertCalls(trx, rows);
    await batches.addToTotal(trx, batch.batch_id, rows.length, deps.now().toISOString());
  });
  return { status: rows.length === calls.length ? 200 : 207, body: { success: true, created: rows.length, results } };
}
