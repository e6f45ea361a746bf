import type { Kysely } from 'kysely';
import { isSupportedCountry } from 'libphonenumber-js/max';
import { AppError } from '../errors.js';
import type { AgentVariable } from '../domain/tenancy/agent-variable.js';
import { newHex24Id, newSlugId, nowIso } from '../domain/tenancy/ids.js';
import type { Database } from '../storage/schema.js';
import { isUniqueViolation } from '../storage/db-errors.js';
import type { PageRequest } from '../storage/repositories/paging.js';
import * as agentsRepo from '../storage/repositories/agents-repository.js';
import * as deploymentsRepo from '../storage/repositories/deployments-repository.js';
import * as orgsRepo from '../storage/repositories/orgs-repository.js';
import * as phoneNumbersRepo from '../storage/repositories/phone-numbers-repository.js';
import * as usersRepo from '../storage/repositories/users-repository.js';
import * as workspacesRepo from '../storage/repositories/workspaces-repository.js';

type Db = Kysely<Database>;

export interface AgentView {
  org_id: string;
  workspace_id: string;
  agent_id: string;
  name: string;
  variables: AgentVariable[];
  languages: string[];
  states: string[];
  created_at: string;
}

export interface PhoneNumberView {
  _id: string;
  org_id: string;
  workspace_id: string;
  phone_number: string;
  agent_id: string;
  label: string | null;
  created_at: string;
}

/** Inserts a row, turning a duplicate id into 409 already_exists. */
async function insertUnique(what: string, id: string, insert: () => Promise<void>): Promise<void> {
  try {
    await insert();
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('already_exists', `${what} '${id}' already exists.`, { id });
    throw error;
  }
}

function notFound(what: string, id: string): AppError {
  return new AppError('not_found', `${what} '${id}' not found.`);
}

function invalidField(field: string, message: string): AppError {
  return new AppError('validation_failed', message, [{ field, message }]);
}

// Orgs ---------------------------------------------------------------------------------------------

export async function createOrg(db: Db, input: { org_id?: string; name: string }): Promise<orgsRepo.OrgRow> {
  const row = { org_id: input.org_id ?? newSlugId('org'), name: input.name, created_at: nowIso() };
  await insertUnique('Org', row.org_id, () => orgsRepo.insertOrg(db, row));
  return row;
}

export async function getOrg(db: Db, orgId: string): Promise<orgsRepo.OrgRow> {
  const row = await orgsRepo.findOrg(db, orgId);
  if (!row) throw notFound('Org', orgId);
  return row;
}

export async function listOrgs(db: Db, page: PageRequest) {
  const result = await orgsRepo.listOrgs(db, page);
  return { items: result.rows, total: result.total };
}

export async function deleteOrg(db: Db, orgId: string): Promise<void> {
  if (!(await orgsRepo.deleteOrg(db, orgId))) throw notFound('Org', orgId);
}

// Workspaces ---------------------------------------------------------------------------------------

export async function createWorkspace(
  db: Db,
  orgId: string,
  input: { workspace_id?: string; name: string },
): Promise<workspacesRepo.WorkspaceRow> {
  await getOrg(db, orgId);
  const row = {
    org_id: orgId,
    workspace_id: input.workspace_id ?? newSlugId('ws'),
    name: input.name,
    created_at: nowIso(),
  };
  await insertUnique('Workspace', row.workspace_id, () => workspacesRepo.insertWorkspace(db, row));
  return row;
}

export async function getWorkspace(db: Db, orgId: string, workspaceId: string): Promise<workspacesRepo.WorkspaceRow> {
  const row = await workspacesRepo.findWorkspace(db, orgId, workspaceId);
  if (!row) throw notFound('Workspace', workspaceId);
  return row;
}

export async function listWorkspaces(db: Db, orgId: string, only: '*' | readonly string[], page: PageRequest) {
  await getOrg(db, orgId);
  const result = await workspacesRepo.listWorkspaces(db, orgId, only === '*' ? '*' : [...only], page);
  return { items: result.rows, total: result.total };
}

export async function deleteWorkspace(db: Db, orgId: string, workspaceId: string): Promise<void> {
  if (!(await workspacesRepo.deleteWorkspace(db, orgId, workspaceId))) throw notFound('Workspace', workspaceId);
}

// Users --------------------------------------------------------------------------------------------

export async function createUser(
  db: Db,
  orgId: string,
  input: { email: string; name?: string },
): Promise<usersRepo.UserRow> {
  await getOrg(db, orgId);
  const row = {
    user_id: newHex24Id(),
    org_id: orgId,
    email: input.email.toLowerCase(),
    name: input.name ?? null,
    created_at: nowIso(),
  };
  await insertUnique('User with email', row.email, () => usersRepo.insertUser(db, row));
  return row;
}

export async function getUser(db: Db, orgId: string, userId: string): Promise<usersRepo.UserRow> {
  const row = await usersRepo.findUser(db, orgId, userId);
  if (!row) throw notFound('User', userId);
  return row;
}

export async function listUsers(db: Db, orgId: string, page: PageRequest) {
  await getOrg(db, orgId);
  const result = await usersRepo.listUsers(db, orgId, page);
  return { items: result.rows, total: result.total };
}

export async function deleteUser(db: Db, orgId: string, userId: string): Promise<void> {
  if (!(await usersRepo.deleteUser(db, orgId, userId))) throw notFound('User', userId);
}

// Agents -------------------------------------------------------------------------------------------

export interface CreateAgentInput {
  agent_id?: string;
  name: string;
  variables: Array<{ name: string; required?: boolean; default?: string; description?: string }>;
  languages?: string[];
  states?: string[];
}

function agentView(row: agentsRepo.AgentRow): AgentView {
  return {
    org_id: row.org_id,
    workspace_id: row.workspace_id,
    agent_id: row.agent_id,
    name: row.name,
    variables: row.variables,
    languages: row.languages,
    states: row.states,
    created_at: row.created_at,
  };
}

export async function createAgent(
  db: Db,
  orgId: string,
  workspaceId: string,
  input: CreateAgentInput,
): Promise<AgentView> {
  await getWorkspace(db, orgId, workspaceId);
  const seen = new Set<string>();
  const duplicates = input.variables
    .map((v) => v.name)
    .filter((name) => {
      if (seen.has(name)) return true;
      seen.add(name);
      return false;
    });
  if (duplicates.length > 0) {
    throw invalidField(
      '/body/variables',
      `Variable names must be unique; repeated: ${[...new Set(duplicates)].join(', ')}.`,
    );
  }
  const variables: AgentVariable[] = input.variables.map((v) => ({
    name: v.name,
    required: v.required ?? false,
    default: v.default ?? null,
    description: v.description ?? null,
  }));
  const row: agentsRepo.AgentRow = {
    org_id: orgId,
    workspace_id: workspaceId,
    agent_id: input.agent_id ?? newSlugId('agent'),
    name: input.name,
    variables,
    languages: input.languages ?? [],
    states: input.states ?? [],
    created_at: nowIso(),
  };
  await insertUnique('Agent', row.agent_id, () => agentsRepo.insertAgent(db, row));
  return agentView(row);
}

export async function getAgent(db: Db, orgId: string, workspaceId: string, agentId: string): Promise<AgentView> {
  const row = await agentsRepo.findAgent(db, orgId, workspaceId, agentId);
  if (!row) throw notFound('Agent', agentId);
  return agentView(row);
}

export async function listAgents(db: Db, orgId: string, workspaceId: string, page: PageRequest) {
  await getWorkspace(db, orgId, workspaceId);
  const result = await agentsRepo.listAgents(db, orgId, workspaceId, page);
  return { items: result.rows.map(agentView), total: result.total };
}

export async function deleteAgent(db: Db, orgId: string, workspaceId: string, agentId: string): Promise<void> {
  await getAgent(db, orgId, workspaceId, agentId);
  const users = await agentsRepo.findAgentUsers(db, orgId, workspaceId, agentId);
  if (users.deployments.length > 0 || users.phoneNumbers.length > 0) {
    throw new AppError(
      'in_use',
      `Agent '${agentId}' is still used by deployments [${users.deployments.join(', ')}] and phone numbers [${users.phoneNumbers.join(', ')}]; delete or move those first.`,
      users,
    );
  }
  await agentsRepo.deleteAgent(db, orgId, workspaceId, agentId);
}

// Deployments --------------------------------------------------------------------------------------

async function requireAgentForBody(db: Db, orgId: string, workspaceId: string, agentId: string): Promise<void> {
  if (!(await agentsRepo.findAgent(db, orgId, workspaceId, agentId))) {
    throw invalidField('/body/agent_id', `Agent '${agentId}' does not exist in workspace '${workspaceId}'.`);
  }
}

export async function createDeployment(
  db: Db,
  orgId: string,
  workspaceId: string,
  input: { deployment_id?: string; name: string; agent_id: string; default_country?: string },
): Promise<deploymentsRepo.DeploymentRow> {
  await getWorkspace(db, orgId, workspaceId);
  await requireAgentForBody(db, orgId, workspaceId, input.agent_id);
  const country = input.default_country?.toUpperCase();
  if (country !== undefined && !isSupportedCountry(country)) {
    throw invalidField(
      '/body/default_country',
      `default_country '${input.default_country}' is not an ISO 3166-1 alpha-2 code with a phone numbering plan (e.g. IN, US, GB).`,
    );
  }
  const row: deploymentsRepo.DeploymentRow = {
    org_id: orgId,
    workspace_id: workspaceId,
    deployment_id: input.deployment_id ?? newSlugId('dep'),
    name: input.name,
    agent_id: input.agent_id,
    default_country: country ?? null,
    created_at: nowIso(),
    cohort_retention_days: null,
    cohort_retention_strict: 0,
    cohort_retention_last_run_at: null,
    cohort_retention_next_run_at: null,
  };
  await insertUnique('Deployment', row.deployment_id, () => deploymentsRepo.insertDeployment(db, row));
  return row;
}

export async function getDeployment(
  db: Db,
  orgId: string,
  workspaceId: string,
  deploymentId: string,
): Promise<deploymentsRepo.DeploymentRow> {
  const row = await deploymentsRepo.findDeployment(db, orgId, workspaceId, deploymentId);
  if (!row) throw notFound('Deployment', deploymentId);
  return row;
}

export async function listDeployments(db: Db, orgId: string, workspaceId: string, page: PageRequest) {
  await getWorkspace(db, orgId, workspaceId);
  const result = await deploymentsRepo.listDeployments(db, orgId, workspaceId, page);
  return { items: result.rows, total: result.total };
}

export async function deleteDeployment(
  db: Db,
  orgId: string,
  workspaceId: string,
  deploymentId: string,
): Promise<void> {
  if (!(await deploymentsRepo.deleteDeployment(db, orgId, workspaceId, deploymentId)))
    throw notFound('Deployment', deploymentId);
}

// Phone numbers ------------------------------------------------------------------------------------

function phoneNumberView(row: phoneNumbersRepo.PhoneNumberRow): PhoneNumberView {
  return {
    _id: row.phone_number_id,
    org_id: row.org_id,
    workspace_id: row.workspace_id,
    phone_number: row.phone_number,
    agent_id: row.agent_id,
    label: row.label,
    created_at: row.created_at,
  };
}

export async function createPhoneNumber(
  db: Db,
  orgId: string,
  workspaceId: string,
  input: { phone_number: string; agent_id: string; label?: string },
): Promise<PhoneNumberView> {
  await getWorkspace(db, orgId, workspaceId);
  await requireAgentForBody(db, orgId, workspaceId, input.agent_id);
  const row: phoneNumbersRepo.PhoneNumberRow = {
    phone_number_id: newHex24Id(),
    org_id: orgId,
    workspace_id: workspaceId,
    phone_number: input.phone_number,
    agent_id: input.agent_id,
    label: input.label ?? null,
    created_at: nowIso(),
  };
  await insertUnique('Phone number', row.phone_number, () => phoneNumbersRepo.insertPhoneNumber(db, row));
  return phoneNumberView(row);
}

export async function getPhoneNumber(
  db: Db,
  orgId: string,
  workspaceId: string,
  phoneNumberId: string,
): Promise<PhoneNumberView> {
  const row = await phoneNumbersRepo.findPhoneNumber(db, orgId, workspaceId, phoneNumberId);
  if (!row) throw notFound('Phone number', phoneNumberId);
  return phoneNumberView(row);
}

export async function listPhoneNumbers(db: Db, orgId: string, workspaceId: string, page: PageRequest) {
  await getWorkspace(db, orgId, workspaceId);
  const result = await phoneNumbersRepo.listPhoneNumbers(db, orgId, workspaceId, page);
  return { items: result.rows.map(phoneNumberView), total: result.total };
}

export async function deletePhoneNumber(
  db: Db,
  orgId: string,
  workspaceId: string,
  phoneNumberId: string,
): Promise<void> {
  if (!(await phoneNumbersRepo.deletePhoneNumber(db, orgId, workspaceId, phoneNumberId)))
    throw notFound('Phone number', phoneNumberId);
}
