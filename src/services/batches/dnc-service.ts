import { normalisePhone } from '../../domain/ingest/phone.js';
import { canReachWorkspace, type Principal } from '../../domain/tenancy/principal.js';
import { AppError } from '../../errors.js';
import { deleteDnc, insertDnc, listDnc } from '../../storage/repositories/dnc-repository.js';
import { findWorkspace } from '../../storage/repositories/workspaces-repository.js';
import type { BatchDeps } from './batch-deps.js';
import { readSheetRecords, requireSheetKind } from './sheet-source.js';

export interface DncScope {
  orgId: string;
  workspaceId: string;
}

/**
 * The workspace a do-not-call request is about: the one a key names when it names exactly one,
 * else the org_id/workspace_id the request gives (404 outside the key's reach).
 */
export async function dncScope(
  deps: BatchDeps,
  principal: Principal,
  given: { org_id?: string; workspace_id?: string },
): Promise<DncScope> {
  const orgId = principal.kind === 'key' ? principal.orgId : given.org_id;
  const workspaceId =
    given.workspace_id ??
    (principal.kind === 'key' && principal.workspaces !== '*' && principal.workspaces.length === 1
      ? principal.workspaces[0]
      : undefined);
  if (!orgId || !workspaceId) {
    throw new AppError('validation_failed', 'Name the workspace: workspace_id (and org_id with the master key).', [
      { field: '/querystring/workspace_id', message: 'is required for this key' },
    ]);
  }
  if (!canReachWorkspace(principal, orgId, workspaceId) || !(await findWorkspace(deps.db, orgId, workspaceId))) {
    throw new AppError('not_found', `Workspace '${workspaceId}' not found.`);
  }
  return { orgId, workspaceId };
}

/** Adds numbers (E.164, or national with `country`); answers how many were new and which were refused. */
export async function addDncNumbers(
  deps: BatchDeps,
  scope: DncScope,
  numbers: string[],
  country: string | undefined,
  reason: string | null,
) {
  const valid: string[] = [];
  const invalid: Array<{ value: string; reason: string }> = [];
  for (const value of numbers) {
    const phone = normalisePhone(value, country);
    if (phone.ok) valid.push(phone.e164);
    else invalid.push({ value, reason: phone.reason });
  }
  const added =
    valid.length > 0
      ? await insertDnc(deps.db, scope.orgId, scope.workspaceId, [...new Set(valid)], reason, deps.now().toISOString())
      : 0;
  return { added, alreadyListed: new Set(valid).size - added, invalid };
}

export async function removeDncNumber(
  deps: BatchDeps,
  scope: DncScope,
  raw: string,
  country: string | undefined,
): Promise<string> {
  const phone = normalisePhone(raw, country);
  if (!phone.ok) throw new AppError('invalid_phone_number', phone.reason);
  if (!(await deleteDnc(deps.db, scope.orgId, scope.workspaceId, phone.e164)))
    throw new AppError('not_found', `${phone.e164} is not on the do-not-call list.`);
  return phone.e164;
}

export async function listDncNumbers(deps: BatchDeps, scope: DncScope, page: { offset: number; limit: number }) {
  const result = await listDnc(deps.db, scope.orgId, scope.workspaceId, page);
  return {
    items: result.rows.map((r) => ({ phoneNumber: r.phone, reason: r.reason, createdAt: r.created_at })),
    total: result.total,
  };
}

/** Adds every number of an uploaded list: the `phoneNumber` column, else the first column. */
export async function importDncFile(
  deps: BatchDeps,
  scope: DncScope,
  file: { path: string; filename: string },
  country: string | undefined,
  reason: string | null,
) {
  const sheet = await readSheetRecords(file.path, requireSheetKind(file.filename), deps.config.batches);
  const totals = { added: 0, alreadyListed: 0, invalid: [] as Array<{ value: string; reason: string }> };
  try {
    if (!sheet.header) throw new AppError('empty_file', `'${file.filename}' is empty.`);
    const column = Math.max(0, sheet.header.map((h) => h.trim()).indexOf('phoneNumber'));
    for await (const rows of sheet.batches) {
      const result = await addDncNumbers(
        deps,
        scope,
        rows.map((cells) => cells[column] ?? ''),
        country,
        reason,
      );
      totals.added += result.added;
      totals.alreadyListed += result.alreadyListed;
      totals.invalid.push(...result.invalid.slice(0, Math.max(0, 1000 - totals.invalid.length)));
    }
  } finally {
    sheet.close();
  }
  return totals;
}
