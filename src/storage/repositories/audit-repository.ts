import type { Insertable, Kysely, Selectable } from 'kysely';
import type { AuditEventsTable, Database } from '../schema.js';
import { fetchPage, type Page, type PageRequest } from './paging.js';

type Db = Kysely<Database>;

export type AuditEventRow = Selectable<AuditEventsTable>;

export async function insertAuditEvent(db: Db, row: Insertable<AuditEventsTable>): Promise<void> {
  await db.insertInto('audit_events').values(row).execute();
}

export interface AuditFilters {
  /**
   * Who reads: '*' for the whole org (the master key, a key of every workspace); else a key limited
   * to some workspaces, which sees those workspaces' events and its own.
   */
  reader: '*' | { workspaces: readonly string[]; keyId: string };
  keyId?: string;
  method?: string;
  route?: string;
  outcome?: 'success' | 'failure';
  resourceId?: string;
  /** ISO timestamps, inclusive. */
  since?: string;
  until?: string;
}

/** One org's events, newest first. */
export function listAuditEvents(
  db: Db,
  orgId: string,
  filters: AuditFilters,
  page: PageRequest,
): Promise<Page<AuditEventRow>> {
  let query = db.selectFrom('audit_events').selectAll().where('org_id', '=', orgId);
  const { reader } = filters;
  if (reader !== '*') {
    query = query.where((eb) =>
      eb.or([
        eb('key_id', '=', reader.keyId),
        ...(reader.workspaces.length > 0 ? [eb('workspace_id', 'in', [...reader.workspaces])] : []),
      ]),
    );
  }
  if (filters.keyId !== undefined) query = query.where('key_id', '=', filters.keyId);
  if (filters.method !== undefined) query = query.where('method', '=', filters.method);
  if (filters.route !== undefined) query = query.where('route', '=', filters.route);
  if (filters.outcome !== undefined) query = query.where('outcome', '=', filters.outcome);
  if (filters.resourceId !== undefined) query = query.where('resource_id', '=', filters.resourceId);
  if (filters.since !== undefined) query = query.where('occurred_at', '>=', filters.since);
  if (filters.until !== undefined) query = query.where('occurred_at', '<=', filters.until);
  return fetchPage(query, [{ column: 'seq', direction: 'desc' }], page);
}
