// Records that grow with use and are kept for a time only (#17): audit events past
// ROSTER_AUDIT_RETENTION_DAYS and webhook deliveries (with their attempts) past
// ROSTER_WEBHOOK_DELIVERY_RETENTION_DAYS once they are no longer pending. The job runners' sweeps
// prune them a bounded batch at a time, oldest first; 0 days keeps them.
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';

const DAY_MS = 86_400_000;
/** Rows looked at, and at most deleted, per table and sweep. */
const BATCH = 5000;

/**
 * The longest run of oldest rows (by seq, which follows time) written before `cutoff`: the seq to
 * delete up to, or undefined. Reads at most BATCH rows through the primary key, however large the table.
 */
function lastSeqBefore(rows: ReadonlyArray<{ seq: number; at: string }>, cutoff: string): number | undefined {
  let last: number | undefined;
  for (const row of rows) {
    if (row.at >= cutoff) break;
    last = Number(row.seq);
  }
  return last;
}

export async function pruneAuditEvents(db: Kysely<Database>, days: number, now: Date): Promise<number> {
  if (days === 0) return 0;
  const cutoff = new Date(now.getTime() - days * DAY_MS).toISOString();
  const oldest = await db
    .selectFrom('audit_events')
    .select(['seq', 'occurred_at as at'])
    .orderBy('seq')
    .limit(BATCH)
    .execute();
  const upTo = lastSeqBefore(oldest, cutoff);
  if (upTo === undefined) return 0;
  const deleted = await db.deleteFrom('audit_events').where('seq', '<=', upTo).executeTakeFirst();
  return Number(deleted.numDeletedRows);
}

/** Deliveries that succeeded or failed before the cutoff; a pending one is kept until it ends. */
export async function pruneDeliveries(db: Kysely<Database>, days: number, now: Date): Promise<number> {
  if (days === 0) return 0;
  const cutoff = new Date(now.getTime() - days * DAY_MS).toISOString();
  const oldest = await db
    .selectFrom('webhook_deliveries')
    .select(['seq', 'created_at as at'])
    .orderBy('seq')
    .limit(BATCH)
    .execute();
  const upTo = lastSeqBefore(oldest, cutoff);
  if (upTo === undefined) return 0;
  const deleted = await db
    .deleteFrom('webhook_deliveries')
    .where('seq', '<=', upTo)
    .where('status', '!=', 'pending')
    .executeTakeFirst();
  return Number(deleted.numDeletedRows);
}
