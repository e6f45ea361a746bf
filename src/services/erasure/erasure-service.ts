// Right-to-erasure requests (#17): POST …/workspaces/{ws}/erasure {phone_numbers}. What the
// database holds goes in the request's own transaction (contacts of every deployment, calls with
// their logs, webhook deliveries that name a number), so lookups answer found: false and the calls
// are gone once the answer arrives; the erase_numbers job then rewrites every stored cohort and
// rejection file of the workspace without the rows that hold a number (erasure-task.ts). The
// numbers are kept only while the request is processing.
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { isSupportedPhoneCountry, normalisePhone } from '../../domain/ingest/phone.js';
import type { Principal } from '../../domain/tenancy/principal.js';
import { AppError } from '../../errors.js';
import { enqueue } from '../../queue/runner.js';
import type { PageRequest } from '../../storage/repositories/paging.js';
import { findWorkspace } from '../../storage/repositories/workspaces-repository.js';
import type { Database, ErasuresTable } from '../../storage/schema.js';
import { completeIfDone } from '../batches/dialer-service.js';
import type { CohortDeps } from '../cohorts/cohort-deps.js';
import { createdBy } from '../cohorts/cohort-service.js';
import { announce } from '../webhooks/webhook-service.js';

export type ErasureDeps = Pick<CohortDeps, 'db' | 'capabilities' | 'blobs' | 'config' | 'notifyWorkers'>;

/** The most numbers one request may name. */
export const MAX_ERASURE_NUMBERS = 1000;
// Rows per IN (…) list: well within both backends' limits on bound parameters.
const CHUNK = 500;

export interface ErasureView {
  erasure_id: string;
  status: ErasuresTable['status'];
  phone_numbers: number;
  requested_by: string;
  created_at: string;
  completed_at: string | null;
  removed: {
    contacts: number;
    calls: number;
    call_logs: number;
    webhook_deliveries: number;
    cohort_file_rows: number;
    rejected_file_rows: number;
  };
  files_rewritten: number;
  files_deleted: number;
  /** Cohorts whose files are still to be rewritten (those still processing are waited for). */
  cohorts_pending: number;
  error: { message: string } | null;
}

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The numbers as E.164 (national forms read with `country`), without repeats; refuses the request naming every bad one. */
export function erasureNumbers(raw: readonly string[], country: string | undefined): string[] {
  if (raw.length === 0 || raw.length > MAX_ERASURE_NUMBERS)
    throw new AppError('validation_failed', `Send 1 to ${MAX_ERASURE_NUMBERS} phone numbers a request.`, [
      { field: '/body/phone_numbers', message: `must hold 1 to ${MAX_ERASURE_NUMBERS} numbers` },
    ]);
  if (country !== undefined && !isSupportedPhoneCountry(country))
    throw new AppError('validation_failed', `Country '${country}' is not a supported ISO 3166 alpha-2 code.`, [
      { field: '/body/country', message: 'is not a supported ISO 3166 alpha-2 code (e.g. IN, US, GB)' },
    ]);
  const bad: Array<{ index: number; phone_number: string; reason: string }> = [];
  const numbers = new Set<string>();
  raw.forEach((text, index) => {
    const read = normalisePhone(text, country?.toUpperCase());
    if (read.ok) numbers.add(read.e164);
    else bad.push({ index, phone_number: text, reason: read.reason });
  });
  if (bad.length > 0)
    throw new AppError(
      'invalid_phone_number',
      `${bad.length} of the phone numbers cannot be read (the first, at index ${bad[0]!.index} counting from 0: ${bad[0]!.reason}); send E.164 numbers (+…), or national ones with the request's "country". Nothing was erased.`,
      { invalid: bad.slice(0, 20) },
    );
  return [...numbers];
}

export function erasureView(row: ErasuresTable, pending: number): ErasureView {
  return {
    erasure_id: row.erasure_id,
    status: row.status,
    phone_numbers: Number(row.phone_count),
    requested_by: row.requested_by,
    created_at: row.created_at,
    completed_at: row.completed_at,
    removed: {
      contacts: Number(row.contacts_removed),
      calls: Number(row.calls_removed),
      call_logs: Number(row.call_logs_removed),
      webhook_deliveries: Number(row.webhook_deliveries_removed),
      cohort_file_rows: Number(row.cohort_file_rows_removed),
      rejected_file_rows: Number(row.rejected_file_rows_removed),
    },
    files_rewritten: Number(row.files_rewritten),
    files_deleted: Number(row.files_deleted),
    cohorts_pending: pending,
    error: row.error_message === null ? null : { message: row.error_message },
  };
}

/**
 * Removes the numbers' contacts from the given cohorts (completed or failed ones; a processing
 * cohort's are removed when it is published), each cohort counting as many valid records less.
 */
export async function eraseContacts(trx: Kysely<Database>, seqs: readonly number[], phones: readonly string[]) {
  let removed = 0;
  for (const phoneChunk of chunks(phones)) {
    for (const seqChunk of chunks(seqs)) {
      const held = await trx
        .selectFrom('contacts')
        .select(['cohort_seq', (eb) => eb.fn.countAll<number>().as('n')])
        .where('phone', 'in', phoneChunk)
        .where('cohort_seq', 'in', seqChunk)
        .groupBy('cohort_seq')
        .execute();
      if (held.length === 0) continue;
      await trx
        .deleteFrom('contacts')
        .where('phone', 'in', phoneChunk)
        .where(
          'cohort_seq',
          'in',
          held.map((h) => Number(h.cohort_seq)),
        )
        .execute();
      for (const h of held) {
        removed += Number(h.n);
        await trx
          .updateTable('cohorts')
          .set((eb) => ({ valid_records: eb('valid_records', '-', Number(h.n)) }))
          .where('seq', '=', Number(h.cohort_seq))
          .where('valid_records', 'is not', null)
          .execute();
      }
    }
  }
  return removed;
}

/**
 * At a cohort's publication, inside its transaction and after the row is marked completed (which
 * holds its lock): drops the contacts of every erasure still waiting for this cohort. An erasure
 * that arrived while the cohort was processing never sees its numbers go live.
 */
export async function eraseAtPublication(trx: Kysely<Database>, cohortSeq: number): Promise<void> {
  const waiting = await trx
    .selectFrom('erasure_cohorts as ec')
    .innerJoin('erasures as e', 'e.erasure_id', 'ec.erasure_id')
    .select(['e.erasure_id', 'e.phone_numbers'])
    .where('ec.cohort_seq', '=', cohortSeq)
    .where('ec.done', '=', 0)
    .where('e.status', '=', 'processing')
    .execute();
  for (const erasure of waiting) {
    if (erasure.phone_numbers === null) continue;
    const removed = await eraseContacts(trx, [cohortSeq], JSON.parse(erasure.phone_numbers) as string[]);
    if (removed > 0)
      await trx
        .updateTable('erasures')
        .set((eb) => ({ contacts_removed: eb('contacts_removed', '+', removed) }))
        .where('erasure_id', '=', erasure.erasure_id)
        .execute();
  }
}

/** Whether an erasure is still rewriting this cohort's files (its downloads wait until it is done). */
export async function erasureRewriting(db: Kysely<Database>, cohortSeq: number): Promise<boolean> {
  const row = await db
    .selectFrom('erasure_cohorts')
    .select('erasure_id')
    .where('cohort_seq', '=', cohortSeq)
    .where('done', '=', 0)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Calls of the workspace's batches to the numbers, with their logs; each batch counts them out, and completes if nothing is left to call. */
async function eraseCalls(
  deps: ErasureDeps,
  trx: Kysely<Database>,
  orgId: string,
  workspaceId: string,
  phones: readonly string[],
  now: Date,
): Promise<{ calls: number; logs: number }> {
  let calls = 0;
  let logs = 0;
  const perBatch = new Map<string, number>();
  for (const phoneChunk of chunks(phones)) {
    const found = await trx
      .selectFrom('calls as c')
      .innerJoin('batches as b', 'b.batch_id', 'c.batch_id')
      .select(['c.call_id', 'c.batch_id'])
      .where('b.org_id', '=', orgId)
      .where('b.workspace_id', '=', workspaceId)
      .where('c.phone', 'in', phoneChunk)
      .execute();
    for (const ids of chunks(found.map((c) => c.call_id))) {
      const deletedLogs = await trx.deleteFrom('call_logs').where('call_id', 'in', ids).executeTakeFirst();
      logs += Number(deletedLogs.numDeletedRows);
      const deletedCalls = await trx.deleteFrom('calls').where('call_id', 'in', ids).executeTakeFirst();
      calls += Number(deletedCalls.numDeletedRows);
    }
    for (const call of found) perBatch.set(call.batch_id, (perBatch.get(call.batch_id) ?? 0) + 1);
  }
  const nowIso = now.toISOString();
  for (const [batchId, n] of perBatch) {
    await trx
      .updateTable('batches')
      .set((eb) => ({ total_calls: eb('total_calls', '-', n), updated_at: nowIso }))
      .where('batch_id', '=', batchId)
      .execute();
    await completeIfDone(deps, trx, batchId, now);
  }
  return { calls, logs };
}

/** Deliveries to the workspace's webhooks whose body names a number (call.reported events), with their attempts. */
async function eraseDeliveries(trx: Kysely<Database>, orgId: string, workspaceId: string, phones: readonly string[]) {
  const hooks = await trx
    .selectFrom('webhooks')
    .select('webhook_id')
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .execute();
  if (hooks.length === 0) return 0;
  let removed = 0;
  // A number appears in a body as a JSON string, with its + or without (as the batch vendor shows
  // it): "+14155550100", "14155550100". E.164 holds no LIKE wildcard.
  for (const phoneChunk of chunks(phones, 25)) {
    const deleted = await trx
      .deleteFrom('webhook_deliveries')
      .where(
        'webhook_id',
        'in',
        hooks.map((h) => h.webhook_id),
      )
      .where((eb) =>
        eb.or(
          phoneChunk.flatMap((phone) => [
            eb('body', 'like', `%"${phone}"%`),
            eb('body', 'like', `%"${phone.slice(1)}"%`),
          ]),
        ),
      )
      .executeTakeFirst();
    removed += Number(deleted.numDeletedRows);
  }
  return removed;
}

/**
 * Takes an erasure request: in one transaction, removes the numbers from the database, lists every
 * cohort of the workspace for the file rewrite and queues the job that does it. Processing cohorts
 * are locked first (PostgreSQL), so a cohort being published either finished before (its contacts
 * are removed here) or publishes after this commits (and drops the numbers itself).
 */
export async function requestErasure(
  deps: ErasureDeps,
  orgId: string,
  workspaceId: string,
  principal: Principal,
  input: { phone_numbers: string[]; country?: string | undefined },
): Promise<ErasureView> {
  if (!(await findWorkspace(deps.db, orgId, workspaceId)))
    throw new AppError('not_found', `Workspace '${workspaceId}' not found.`);
  const phones = erasureNumbers(input.phone_numbers, input.country);
  const now = new Date();
  const erasureId = `er_${randomUUID().replaceAll('-', '')}`;
  const row = await deps.db.transaction().execute(async (trx) => {
    // The request's row first: a write as the first statement takes SQLite's write lock at once
    // (waiting its busy timeout), so no other connection can commit between this transaction's
    // reads and its writes.
    const request: ErasuresTable = {
      erasure_id: erasureId,
      org_id: orgId,
      workspace_id: workspaceId,
      status: 'processing',
      phone_count: phones.length,
      phone_numbers: JSON.stringify(phones),
      contacts_removed: 0,
      calls_removed: 0,
      call_logs_removed: 0,
      webhook_deliveries_removed: 0,
      cohort_file_rows_removed: 0,
      rejected_file_rows_removed: 0,
      files_rewritten: 0,
      files_deleted: 0,
      error_message: null,
      requested_by: createdBy(principal),
      created_at: now.toISOString(),
      completed_at: null,
    };
    await trx.insertInto('erasures').values(request).execute();
    const ofWorkspace = trx
      .selectFrom('cohorts')
      .select(['seq', 'status'])
      .where('org_id', '=', orgId)
      .where('workspace_id', '=', workspaceId);
    if (deps.capabilities.rowLocking) await ofWorkspace.where('status', '=', 'processing').forUpdate().execute();
    const cohorts = await ofWorkspace.orderBy('seq').execute();
    const contacts = await eraseContacts(
      trx,
      cohorts.filter((c) => c.status !== 'processing').map((c) => Number(c.seq)),
      phones,
    );
    const calls = await eraseCalls(deps, trx, orgId, workspaceId, phones, now);
    const deliveries = await eraseDeliveries(trx, orgId, workspaceId, phones);
    // Without a cohort there are no files to rewrite: the request is complete now.
    const done = cohorts.length === 0;
    const counted: ErasuresTable = {
      ...request,
      status: done ? 'completed' : 'processing',
      phone_numbers: done ? null : request.phone_numbers,
      contacts_removed: contacts,
      calls_removed: calls.calls,
      call_logs_removed: calls.logs,
      webhook_deliveries_removed: deliveries,
      completed_at: done ? now.toISOString() : null,
    };
    const { erasure_id: _id, ...changes } = counted;
    await trx.updateTable('erasures').set(changes).where('erasure_id', '=', erasureId).execute();
    for (const part of chunks(cohorts))
      await trx
        .insertInto('erasure_cohorts')
        .values(part.map((c) => ({ erasure_id: erasureId, cohort_seq: Number(c.seq), done: 0, old_keys: null })))
        .execute();
    if (done) await announceErasure(deps, trx, counted);
    else await enqueue(trx, 'erase_numbers', { erasureId }, deps.config.jobs.maxAttempts, now);
    return { row: counted, pending: cohorts.length };
  });
  deps.notifyWorkers();
  return erasureView(row.row, row.pending);
}

/** The erasure.completed event, in the transaction that completes the request. */
export async function announceErasure(deps: Pick<ErasureDeps, 'config'>, trx: Kysely<Database>, row: ErasuresTable) {
  await announce(
    trx,
    { orgId: row.org_id, workspaceId: row.workspace_id, type: 'erasure.completed', data: erasureView(row, 0) },
    deps.config.jobs.maxAttempts,
  );
}

async function pendingCounts(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('erasure_cohorts')
    .select(['erasure_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('erasure_id', 'in', ids)
    .where('done', '=', 0)
    .groupBy('erasure_id')
    .execute();
  return new Map(rows.map((r) => [r.erasure_id, Number(r.n)]));
}

export async function getErasure(
  deps: Pick<ErasureDeps, 'db'>,
  orgId: string,
  workspaceId: string,
  erasureId: string,
): Promise<ErasureView> {
  const row = await deps.db
    .selectFrom('erasures')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .where('erasure_id', '=', erasureId)
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `Erasure '${erasureId}' not found in workspace '${workspaceId}'.`);
  return erasureView(row, (await pendingCounts(deps.db, [erasureId])).get(erasureId) ?? 0);
}

/** The workspace's erasure requests, newest first. */
export async function listErasures(
  deps: Pick<ErasureDeps, 'db'>,
  orgId: string,
  workspaceId: string,
  page: PageRequest,
): Promise<{ items: ErasureView[]; total: number }> {
  if (!(await findWorkspace(deps.db, orgId, workspaceId)))
    throw new AppError('not_found', `Workspace '${workspaceId}' not found.`);
  const where = deps.db.selectFrom('erasures').where('org_id', '=', orgId).where('workspace_id', '=', workspaceId);
  const rows = await where
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('erasure_id', 'desc')
    .offset(page.offset)
    .limit(page.limit)
    .execute();
  const total = await where.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  const pending = await pendingCounts(
    deps.db,
    rows.map((r) => r.erasure_id),
  );
  return { items: rows.map((r) => erasureView(r, pending.get(r.erasure_id) ?? 0)), total: Number(total.n) };
}
