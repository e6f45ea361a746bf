/** Who is calling: the instance's master key, or an org's API key limited to some workspaces. */
export type Principal =
  | { kind: 'master' }
  | {
      kind: 'key';
      keyId: string;
      orgId: string;
      userId: string;
      userEmail: string;
      workspaces: '*' | readonly string[];
    };

export function canReachOrg(principal: Principal, orgId: string): boolean {
  return principal.kind === 'master' || principal.orgId === orgId;
}

export function canReachWorkspace(principal: Principal, orgId: string, workspaceId: string): boolean {
  if (principal.kind === 'master') return true;
  if (principal.orgId !== orgId) return false;
  return principal.workspaces === '*' || principal.workspaces.includes(workspaceId);
}

/** The workspaces of an org a principal may list: all, or the ones a key names. */
export function reachableWorkspaces(principal: Principal): '*' | readonly string[] {
  return principal.kind === 'master' ? '*' : principal.workspaces;
}
