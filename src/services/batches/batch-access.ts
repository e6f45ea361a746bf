import { AppError } from '../../errors.js';
import { canReachWorkspace, type Principal } from '../../domain/tenancy/principal.js';
import { type BatchRow, findBatch } from '../../storage/repositories/batches-repository.js';
import type { BatchDeps } from './batch-deps.js';

/** A batch the key may reach; 404 for anything else, so other tenants' ids cannot be probed. */
export async function reachableBatch(deps: BatchDeps, principal: Principal, batchId: string): Promise<BatchRow> {
  const row = /^[0-9a-f]{24}$/.test(batchId) ? await findBatch(deps.db, batchId) : undefined;
  if (!row || !canReachWorkspace(principal, row.org_id, row.workspace_id))
    throw new AppError('not_found', `Batch '${batchId}' not found.`);
  return row;
}
