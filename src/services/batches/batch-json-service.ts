import type { RecordCreated } from '../record-created.js';
import { newHex24Id } from '../../domain/tenancy/ids.js';
import type { Principal } from '../../domain/tenancy/principal.js';
import { AppError } from '../../errors.js';
import { addToTotal, insertBatch } from '../../storage/repositories/batches-repository.js';
import { findCallIdsByPhone, insertCalls } from '../../storage/repositories/calls-repository.js';
import { findDncAmong } from '../../storage/repositories/dnc-repository.js';
import { findAgent } from '../../storage/repositories/agents-repository.js';
import { findPhoneNumberById } from '../../storage/repositories/phone-numbers-repository.js';
import { reachableBatch } from './batch-access.js';
import type { BatchDeps } from './batch-deps.js';
import { parseBatchFields } from './batch-fields.js';
import { batchRow, callRows, resolveTarget } from './batch-upload-service.js';
import { callingCountry, contactChecker } from './contact-rules.js';

/** createBatch's body: the vendor's fields, plus the upload's `userId`, `batchType` and `enableDNC`. */
export interface CreateBatchInput {
  batchName: string;
  callingNumbers: string[];
  /** Beyond the vendor: whose batch it is; an org key's own user when absent. */
  userId?: string;
  batchType?: string;
  enableDNC?: boolean;
  retry?: number;
  delay?: number;
  timezone?: string;
  callingHour?: { start: string; end: string };
  allowedDays?: number[];
}

/**
 * An empty batch from JSON (the vendor's createBatch), read by the upload's own field parser so both
 * follow the same rules and units. Answers the new batch's id.
 */
export async function createBatch(
  deps: BatchDeps,
  principal: Principal,
  input: CreateBatchInput,
  recordCreated?: RecordCreated<string>,
): Promise<string> {
  const text = (value: unknown) =>
    value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
  const fields = parseBatchFields({
    userId: input.userId ?? (principal.kind === 'key' ? principal.userId : undefined),
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
  await deps.db.transaction().execute(async (trx) => {
    await insertBatch(trx, batchRow(deps, batchId, target, fields, { total: 0, invalid: 0, duplicate: 0, dnc: 0 }));
    await recordCreated?.(trx, batchId);
  });
  return batchId;
}

/** The vendor processes addCallsToBatch's records in chunks of this many. */
export const CALL_CHUNK_SIZE = 1000;

/** A call record as sent: `phoneNumber` and free-form fields. */
export type CallRecord = Record<string, string | number | boolean | null>;

export interface AddCallsResult {
  /** Calls written by this request, across chunks. */
  added: number;
  /** In the order of `callData`: the new calls' ids, and the existing ids of phones the batch already had. */
  callIds: string[];
  /** A chunk with an invalid record is refused whole; the others are written. */
  failedChunks: Array<{ chunkNum: number; error: string }>;
  /** Not added, without being an error: repeated earlier in the request, or on the do-not-call list. */
  skipped: { duplicate: number; dnc: number };
}

/** How many invalid records a failed chunk's error names before it says "and N more". */
const NAMED_PROBLEMS = 5;

/**
 * The vendor's addCallsToBatch: records are checked like file rows and written in chunks of 1000,
 * each in its own transaction; a chunk with an invalid record is refused whole and reported, the
 * others are written. A phone the batch already has is not added twice: its existing call's id is
 * answered, so a client may send the same request again. When every chunk fails, nothing was added
 * and the answer is 400 `no_calls_added`.
 */
export async function addCallsToBatch(
  deps: BatchDeps,
  principal: Principal,
  batchId: string,
  records: CallRecord[],
): Promise<AddCallsResult> {
  const batch = await reachableBatch(deps, principal, batchId);
  if (batch.status !== 'running' && batch.status !== 'paused')
    throw new AppError('invalid_state', `Calls cannot be added to a ${batch.status} batch.`, { status: batch.status });
  const agent = await findAgent(deps.db, batch.org_id, batch.workspace_id, batch.agent_id);
  const variables = agent ? agent.variables : [];
  const firstNumber = await findPhoneNumberById(deps.db, batch.calling_numbers[0] ?? '');
  const country = firstNumber ? callingCountry(firstNumber.phone_number) : undefined;

  const result: AddCallsResult = { added: 0, callIds: [], failedChunks: [], skipped: { duplicate: 0, dnc: 0 } };
  const seen = new Set<string>();
  const chunks = Math.ceil(records.length / CALL_CHUNK_SIZE);
  for (let chunk = 0; chunk < chunks; chunk++) {
    const first = chunk * CALL_CHUNK_SIZE;
    const problems: string[] = [];
    // `line` is the record's place in callData (from 1), so calls added in one request list in request
    // order, as a file's calls list in file order (they share one timestamp).
    const contacts: Array<{ phone: string; line: number; variables: Record<string, string>; timezone: string | null }> =
      [];
    records.slice(first, first + CALL_CHUNK_SIZE).forEach((record, i) => {
      const header = Object.keys(record);
      const values = header.map((key) => {
        const value = record[key];
        return value === null || value === undefined ? '' : String(value);
      });
      const contact = contactChecker(header, variables, country)(values);
      if (!contact.ok)
        problems.push(`callData[${first + i}]${contact.column ? ` ${contact.column}` : ''}: ${contact.reason}`);
      else
        contacts.push({
          phone: contact.phone,
          line: first + i + 1,
          variables: contact.variables,
          timezone: contact.timezone,
        });
    });
    if (problems.length > 0) {
      const more = problems.length > NAMED_PROBLEMS ? `; and ${problems.length - NAMED_PROBLEMS} more` : '';
      result.failedChunks.push({
        chunkNum: chunk + 1,
        error: `${problems.length} invalid record${problems.length === 1 ? '' : 's'}, so none of this chunk was added: ${problems.slice(0, NAMED_PROBLEMS).join('; ')}${more}`,
      });
      continue;
    }
    const fresh = contacts.filter((contact) => {
      if (seen.has(contact.phone)) {
        result.skipped.duplicate++;
        return false;
      }
      seen.add(contact.phone);
      return true;
    });
    const phones = fresh.map((c) => c.phone);
    const existing = await findCallIdsByPhone(deps.db, batch.batch_id, phones);
    const dnc =
      Number(batch.enable_dnc) === 1
        ? await findDncAmong(deps.db, batch.org_id, batch.workspace_id, phones)
        : new Set<string>();
    const toAdd = fresh.filter((contact) => !existing.has(contact.phone) && !dnc.has(contact.phone));
    result.skipped.dnc += fresh.filter((contact) => !existing.has(contact.phone) && dnc.has(contact.phone)).length;
    const rows = callRows(deps, batch.batch_id, toAdd);
    if (rows.length > 0)
      await deps.db.transaction().execute(async (trx) => {
        await insertCalls(trx, rows);
        await addToTotal(trx, batch.batch_id, rows.length, deps.now().toISOString());
      });
    const newIds = new Map(rows.map((row) => [row.phone, row.call_id]));
    for (const contact of fresh) {
      const id = existing.get(contact.phone) ?? newIds.get(contact.phone);
      if (id) result.callIds.push(id);
    }
    result.added += rows.length;
  }
  if (chunks > 0 && result.failedChunks.length === chunks)
    throw new AppError(
      'no_calls_added',
      `No call was added: ${chunks === 1 ? 'the chunk' : `all ${chunks} chunks`} of callData failed. ${result.failedChunks.map((f) => f.error).join(' ')}`,
      { failedChunks: result.failedChunks },
    );
  return result;
}
