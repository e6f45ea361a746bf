// Who a key is: what a client needs to fill the ids it would otherwise have to be told (userId).
import type { Kysely } from 'kysely';
import type { Principal } from '../domain/tenancy/principal.js';
import type { Database } from '../storage/schema.js';
import { listReachableWorkspaces } from '../storage/repositories/workspaces-repository.js';

export interface IdentityView {
  kind: 'api_key' | 'master';
  org_id: string | null;
  key_id: string | null;
  user_id: string | null;
  email: string | null;
  all_workspaces: boolean;
  workspaces: Array<{ workspace_id: string; name: string }>;
}

/**
 * The key's org, user and the workspaces it reaches. The master key belongs to no org and acts for
 * no user: it reaches every org's workspaces (`all_workspaces`, none listed), and a batch it uploads
 * must name its userId (see GET /v1/orgs/{org_id}/users).
 */
export async function describePrincipal(db: Kysely<Database>, principal: Principal): Promise<IdentityView> {
  if (principal.kind === 'master')
    return {
      kind: 'master',
      org_id: null,
      key_id: null,
      user_id: null,
      email: null,
      all_workspaces: true,
      workspaces: [],
    };
  return {
    kind: 'api_key',
    org_id: principal.orgId,
    key_id: principal.keyId,
    user_id: principal.userId,
    email: principal.userEmail,
    all_workspaces: principal.workspaces === '*',
    workspaces: await listReachableWorkspaces(db, principal.orgId, principal.workspaces),
  };
}
