import type { Kysely } from 'kysely';
import type { Principal } from '../domain/tenancy/principal.js';
import { type AuditFilters, listAuditEvents } from '../storage/repositories/audit-repository.js';
import type { Page, PageRequest } from '../storage/repositories/paging.js';
import type { AuditEventRow } from '../storage/repositories/audit-repository.js';
import type { Database } from '../storage/schema.js';

/**
 * One page of an org's audit trail as `principal` may read it, newest first: everything for the
 * master key and a key of every workspace; a key limited to some workspaces sees those workspaces'
 * events and its own. The caller has checked that the principal reaches the org.
 */
export function listOrgAuditEvents(
  db: Kysely<Database>,
  principal: Principal,
  orgId: string,
  filters: Omit<AuditFilters, 'reader'>,
  page: PageRequest,
): Promise<Page<AuditEventRow>> {
  const reader =
    principal.kind === 'master' || principal.workspaces === '*'
      ? '*'
      : { workspaces: principal.workspaces, keyId: principal.keyId };
  return listAuditEvents(db, orgId, { ...filters, reader }, page);
}
