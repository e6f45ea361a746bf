import type { RecordCreated } from '../record-created.js';
import { newHex24Id } from '../../domain/tenancy/ids.js';
import { canReachWorkspace, type Principal } from '../../domain/tenancy/principal.js';
import { AppError } from '../../errors.js';
import { type BatchRow, insertBatch } from '../../storage/repositories/batches-repository.js';
import { type CallRow, insertCalls } from '../../storage/repositories/calls-repository.js';
import { findDncAmong } from '../../storage/repositories/dnc-repository.js';
import { findAgent } from '../../storage/repositories/agents-repository.js';
import { findPhoneNumberById, type PhoneNumberRow } from '../../storage/repositories/phone-numbers-repository.js';
import { findUserById } from '../../storage/repositories/users-repository.js';
import type { AgentVariable } from '../../domain/tenancy/agent-variable.js';
import type { BatchDeps } from './batch-deps.js';
import type { BatchFields } from './batch-fields.js';
import { callingCountry, contactChecker, missingColumns } from './contact-rules.js';
import { readSheetRecords, requireSheetKind } from './sheet-source.js';

/** How many invalid rows a 422 lists; the count covers them all. */
const LISTED_INVALID_ROWS = 1000;

export interface InvalidRow {
  line: number;
  column: string | null;
  reason: string;
}

export interface BatchUploadResult {
  success: true;
  batch: { _id: string; batchName: string; callingNumbers: string[]; totalCalls: number };
  skipped: { invalid: number; duplicate: number; dnc: number };
  invalidRows: InvalidRow[];
}

export interface Target {
  orgId: string;
  workspaceId: string;
  agentId: string;
  variables: AgentVariable[];
  country: string | undefined;
}

/** The user, workspace and agent a batch belongs to, from userId and the calling numbers (404s as the vendor lists them). */
export async function resolveTarget(deps: BatchDeps, principal: Principal, fields: BatchFields): Promise<Target> {
  const user = await findUserById(deps.db, fields.userId);
  if (!user || (principal.kind === 'key' && user.org_id !== principal.orgId))
    throw new AppError('user_not_found', `User '${fields.userId}' not found.`);
  const numbers: PhoneNumberRow[] = [];
  for (const id of fields.callingNumbers) {
    const number = await findPhoneNumberById(deps.db, id);
    if (!number || number.org_id !== user.org_id || !canReachWorkspace(principal, number.org_id, number.workspace_id)) {
      throw new AppError(
        'calling_numbers_not_found',
        `No agent found for the calling numbers: '${id}' is not a calling number of this workspace.`,
        { phone_number_id: id },
      );
    }
    numbers.push(number);
  }
  const first = numbers[0]!;
  const agents = new Set(numbers.map((n) => `${n.workspace_id}/${n.agent_id}`));
  if (agents.size > 1) {
    throw new AppError(
      'invalid_batch_field',
      `callingNumbers belong to ${agents.size} different agents (${[...agents].join(', ')}); a batch calls for one agent.`,
      [{ field: 'callingNumbers', message: 'calling numbers of different agents' }],
    );
  }
  const agent = await findAgent(deps.db, first.org_id, first.workspace_id, first.agent_id);
  if (!agent)
    throw new AppError(
      'calling_numbers_not_found',
      `No agent found for the calling numbers (agent '${first.agent_id}' no longer exists).`,
    );
  if (agent.languages.length === 0) {
    throw new AppError(
      'agent_language_missing',
      `Agent '${agent.agent_id}' has no language configured; add one before creating a batch.`,
    );
  }
  const country = callingCountry(first.phone_number);
  return {
    orgId: first.org_id,
    workspaceId: first.workspace_id,
    agentId: agent.agent_id,
    variables: agent.variables,
    country,
  };
}

/** The stored form of a new batch, running from now. */
export function batchRow(
  deps: BatchDeps,
  batchId: string,
  target: Target,
  fields: BatchFields,
  counts: { total: number; invalid: number; duplicate: number; dnc: number },
): BatchRow {
  const now = deps.now().toISOString();
  const { window, retry, delaySeconds } = fields.schedule;
  return {
    batch_id: batchId,
    org_id: target.orgId,
    workspace_id: target.workspaceId,
    agent_id: target.agentId,
    user_id: fields.userId,
    batch_name: fields.batchName,
    batch_type: fields.batchType,
    status: 'running',
    calling_numbers: fields.callingNumbers,
    enable_dnc: fields.enableDnc ? 1 : 0,
    retry,
    delay_seconds: delaySeconds,
    timezone: window.timezone,
    calling_start: window.start,
    calling_end: window.end,
    allowed_days: [...window.allowedDays],
    total_calls: counts.total,
    skipped_invalid: counts.invalid,
    skipped_duplicate: counts.duplicate,
    skipped_dnc: counts.dnc,
    rotation: 0,
    created_at: now,
    updated_at: now,
  };
}

/** New pending calls, due at once (the dialer moves them into their window). */
export function callRows(
  deps: BatchDeps,
  batchId: string,
  contacts: Array<{ phone: string; line: number | null; variables: Record<string, string>; timezone: string | null }>,
): CallRow[] {
  const now = deps.now().toISOString();
  return contacts.map((contact) => ({
    call_id: newHex24Id(),
    batch_id: batchId,
    row_number: contact.line,
    phone: contact.phone,
    variables: contact.variables,
    timezone: contact.timezone,
    status: 'pending',
    attempts: 0,
    next_attempt_at: now,
    lease_id: null,
    lease_until: null,
    caller_number: null,
    created_at: now,
    updated_at: now,
  }));
}

/**
 * Creates a batch from an uploaded CSV or Excel file: validates every row, drops repeated phones
 * (first kept) and do-not-call numbers, and inserts the batch and all its calls in one transaction.
 */
export async function createBatchFromFile(
  deps: BatchDeps,
  principal: Principal,
  fields: BatchFields,
  file: { path: string; filename: string },
  recordCreated?: RecordCreated<BatchUploadResult>,
): Promise<BatchUploadResult> {
  const kind = requireSheetKind(file.filename);
  const target = await resolveTarget(deps, principal, fields);
  const sheet = await readSheetRecords(file.path, kind, deps.config.batches);
  const invalid: InvalidRow[] = [];
  const calls = new Map<string, { line: number; variables: Record<string, string>; timezone: string | null }>();
  let invalidCount = 0;
  let duplicates = 0;
  try {
    const header = sheet.header?.map((h) => h.trim());
    if (!header || header.every((h) => h === ''))
      throw new AppError(
        'empty_file',
        'The file is empty: it needs a header row with a phoneNumber column and at least one row.',
      );
    const missing = missingColumns(header, target.variables);
    if (missing.length > 0)
      throw new AppError(
        'missing_columns',
        `The file lacks required columns: ${missing.join(', ')}. Its header has: ${header.join(', ')}.`,
        { missing },
      );
    const check = contactChecker(header, target.variables, target.country);
    let line = 1;
    for await (const rows of sheet.batches) {
      for (const cells of rows) {
        line++;
        const contact = check(cells);
        if (!contact.ok) {
          invalidCount++;
          if (invalid.length < LISTED_INVALID_ROWS)
            invalid.push({ line, column: contact.column, reason: contact.reason });
          continue;
        }
        if (calls.has(contact.phone)) {
          duplicates++;
          continue;
        }
        calls.set(contact.phone, { line, variables: contact.variables, timezone: contact.timezone });
      }
    }
  } finally {
    sheet.close();
  }
  if (invalidCount > 0 && !fields.skipInvalid) {
    throw new AppError(
      'invalid_rows',
      `${invalidCount} row${invalidCount === 1 ? ' is' : 's are'} invalid; nothing was imported. Fix them, or send type="true" to import the valid rows.`,
      {
        invalid_count: invalidCount,
        rows: invalid,
      },
    );
  }
  let dnc = 0;
  if (fields.enableDnc && calls.size > 0) {
    const listed = await findDncAmong(deps.db, target.orgId, target.workspaceId, [...calls.keys()]);
    for (const phone of listed) calls.delete(phone);
    dnc = listed.size;
  }
  if (calls.size === 0)
    throw new AppError(
      'no_valid_rows',
      `The file has no row to call (${invalidCount} invalid, ${duplicates} repeated, ${dnc} on the do-not-call list).`,
    );

  const batchId = newHex24Id();
  const result: BatchUploadResult = {
    success: true,
    batch: { _id: batchId, batchName: fields.batchName, callingNumbers: fields.callingNumbers, totalCalls: calls.size },
    skipped: { invalid: invalidCount, duplicate: duplicates, dnc },
    invalidRows: invalid,
  };
  await deps.db.transaction().execute(async (trx) => {
    await insertBatch(
      trx,
      batchRow(deps, batchId, target, fields, { total: calls.size, invalid: invalidCount, duplicate: duplicates, dnc }),
    );
    await insertCalls(
      trx,
      callRows(
        deps,
        batchId,
        [...calls].map(([phone, call]) => ({ phone, ...call })),
      ),
    );
    await recordCreated?.(trx, result);
  });
  return result;
}
