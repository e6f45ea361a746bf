import type { Kysely, Selectable } from 'kysely';
import type { AgentsTable, Database, DeploymentsTable, OrgsTable, PhoneNumbersTable, UsersTable, WorkspacesTable } from '../schema.js';
import { fetchPage, type Page, type PageRequest } from './paging.js';

type Db = Kysely<Database>;
export type OrgRow = Selectable<OrgsTable>;
export type WorkspaceRow = Selectable<WorkspacesTable>;
export type UserRow = Selectable<UsersTable>;
export type AgentRow = Selectable<AgentsTable>;
export type DeploymentRow = Selectable<DeploymentsTable>;
export type PhoneNumberRow = Selectable<PhoneNumbersTable>;

const byCreation = [
  { column: 'created_at', direction: 'asc' as const },
];

// Orgs
export async function insertOrg(db: Db, row: OrgRow): Promise<void> {
  await db.insertInto('orgs').values(row).execute();
}
export function findOrg(db: Db, orgId: string): Promise<OrgRow | undefined> {
  return db.selectFrom('orgs').selectAll().where('org_id', '=', orgId).executeTakeFirst();
}
export function listOrgs(db: Db, page: PageRequest): Promise<Page<OrgRow>> {
  return fetchPage(db.selectFrom('orgs').selectAll(), [...byCreation, { column: 'org_id', direction: 'asc' }], page);
}
export async function deleteOrg(db: Db, orgId: string): Promise<boolean> {
  const result = await db.deleteFrom('orgs').where('org_id', '=', orgId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
export async function countOrgs(db: Db): Promise<number> {
  const row = await db.selectFrom('orgs').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

// Workspaces
export async function insertWorkspace(db: Db, row: WorkspaceRow): Promise<void> {
  await db.insertInto('workspaces').values(row).execute();
}
export function findWorkspace(db: Db, orgId: string, workspaceId: string): Promise<WorkspaceRow | undefined> {
  return db.selectFrom('workspaces').selectAll().where('org_id', '=', orgId).where('workspace_id', '=', workspaceId).executeTakeFirst();
}
export function listWorkspaces(db: Db, orgId: string, only: string[] | '*', page: PageRequest): Promise<Page<WorkspaceRow>> {
  let query = db.selectFrom('workspaces').selectAll().where('org_id', '=', orgId);
  if (only !== '*') query = only.length > 0 ? query.where('workspace_id', 'in', only) : query.where((eb) => eb.lit(false));
  return fetchPage(query, [...byCreation, { column: 'workspace_id', direction: 'asc' }], page);
}
export async function deleteWorkspace(db: Db, orgId: string, workspaceId: string): Promise<boolean> {
  const result = await db.deleteFrom('workspaces').where('org_id', '=', orgId).where('workspace_id', '=', workspaceId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

// Users
export async function insertUser(db: Db, row: UserRow): Promise<void> {
  await db.insertInto('users').values(row).execute();
}
export function findUser(db: Db, orgId: string, userId: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('org_id', '=', orgId).where('user_id', '=', userId).executeTakeFirst();
}
export function findUserById(db: Db, userId: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
}
export function listUsers(db: Db, orgId: string, page: PageRequest): Promise<Page<UserRow>> {
  return fetchPage(db.selectFrom('users').selectAll().where('org_id', '=', orgId), [...byCreation, { column: 'user_id', direction: 'asc' }], page);
}
export async function deleteUser(db: Db, orgId: string, userId: string): Promise<boolean> {
  const result = await db.deleteFrom('users').where('org_id', '=', orgId).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

// Agents
export async function insertAgent(db: Db, row: AgentRow): Promise<void> {
  await db.insertInto('agents').values(row).execute();
}
export function findAgent(db: Db, orgId: string, workspaceId: string, agentId: string): Promise<AgentRow | undefined> {
  return db
    .selectFrom('agents')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .where('agent_id', '=', agentId)
    .executeTakeFirst();
}
export function listAgents(db: Db, orgId: string, workspaceId: string, page: PageRequest): Promise<Page<AgentRow>> {
  return fetchPage(
    db.selectFrom('agents').selectAll().where('org_id', '=', orgId).where('workspace_id', '=', workspaceId),
    [...byCreation, { column: 'agent_id', direction: 'asc' }],
    page,
  );
}
export async function deleteAgent(db: Db, orgId: string, workspaceId: string, agentId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('agents')
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .where('agent_id', '=', agentId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
/** Ids of deployments and phone numbers that still point at an agent. */
export async function findAgentUsers(db: Db, orgId: string, workspaceId: string, agentId: string): Promise<{ deployments: string[]; phoneNumbers: string[] }> {
  const [deployments, numbers] = await Promise.all([
    db.selectFrom('deployments').select('deployment_id').where('org_id', '=', orgId).where('workspace_id', '=', workspaceId).where('agent_id', '=', agentId).execute(),
    db.selectFrom('phone_numbers').select('phone_number').where('org_id', '=', orgId).where('workspace_id', '=', workspaceId).where('agent_id', '=', agentId).execute(),
  ]);
  return { deployments: deployments.map((d) => d.deployment_id), phoneNumbers: numbers.map((n) => n.phone_number) };
}

// Deployments
export async function insertDeployment(db: Db, row: DeploymentRow): Promise<void> {
  await db.insertInto('deployments').values(row).execute();
}
export function findDeployment(db: Db, orgId: string, workspaceId: string, deploymentId: string): Promise<DeploymentRow | undefined> {
  return db
    .selectFrom('deployments')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .where('deployment_id', '=', deploymentId)
    .executeTakeFirst();
}
export function listDeployments(db: Db, orgId: string, workspaceId: string, page: PageRequest): Promise<Page<DeploymentRow>> {
  return fetchPage(
    db.selectFrom('deployments').selectAll().where('org_id', '=', orgId).where('workspace_id', '=', workspaceId),
    [...byCreation, { column: 'deployment_id', direction: 'asc' }],
    page,
  );
}
export async function deleteDeployment(db: Db, orgId: string, workspaceId: string, deploymentId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('deployments')
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .where('deployment_id', '=', deploymentId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

// Phone numbers (the batch API's calling numbers)
export async function insertPhoneNumber(db: Db, row: PhoneNumberRow): Promise<void> {
  await db.insertInto('phone_numbers').values(row).execute();
}
export function findPhoneNumber(db: Db, orgId: string, workspaceId: string, phoneNumberId: string): Promise<PhoneNumberRow | undefined> {
  return db
    .selectFrom('phone_numbers')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .where('phone_number_id', '=', phoneNumberId)
    .executeTakeFirst();
}
export function listPhoneNumbers(db: Db, orgId: string, workspaceId: string, page: PageRequest): Promise<Page<PhoneNumberRow>> {
  return fetchPage(
    db.selectFrom('phone_numbers').selectAll().where('org_id', '=', orgId).where('workspace_id', '=', workspaceId),
    [...byCreation, { column: 'phone_number_id', direction: 'asc' }],
    page,
  );
}
export async function deletePhoneNumber(db: Db, orgId: string, workspaceId: string, phoneNumberId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('phone_numbers')
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .where('phone_number_id', '=', phoneNumberId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function findPhoneNumberById(db: Db, phoneNumberId: string): Promise<PhoneNumberRow | undefined> {
  return db.selectFrom('phone_numbers').selectAll().where('phone_number_id', '=', phoneNumberId).executeTakeFirst();
}
