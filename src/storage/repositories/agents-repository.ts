// Agents: the voice agents of a workspace and the variables they declare.
import { Type } from '@sinclair/typebox';
import type { Kysely, Selectable } from 'kysely';
import { type AgentVariable, AgentVariableSchema } from '../../domain/tenancy/agent-variable.js';
import { jsonColumn } from '../json-column.js';
import type { AgentsTable, Database } from '../schema.js';
import { fetchPage, type Page, type PageRequest } from './paging.js';

type Db = Kysely<Database>;

/** An agent with its JSON columns parsed. */
export interface AgentRow extends Omit<Selectable<AgentsTable>, 'variables' | 'languages' | 'states'> {
  variables: AgentVariable[];
  languages: string[];
  states: string[];
}

const readVariables = jsonColumn('agents.variables', Type.Array(AgentVariableSchema));
const readLanguages = jsonColumn('agents.languages', Type.Array(Type.String()));
const readStates = jsonColumn('agents.states', Type.Array(Type.String()));

function agentOf(row: Selectable<AgentsTable>): AgentRow {
  return {
    ...row,
    variables: readVariables(row.variables),
    languages: readLanguages(row.languages),
    states: readStates(row.states),
  };
}

export async function insertAgent(db: Db, row: AgentRow): Promise<void> {
  await db
    .insertInto('agents')
    .values({
      ...row,
      variables: JSON.stringify(row.variables),
      languages: JSON.stringify(row.languages),
      states: JSON.stringify(row.states),
    })
    .execute();
}

export async function findAgent(
  db: Db,
  orgId: string,
  workspaceId: string,
  agentId: string,
): Promise<AgentRow | undefined> {
  const row = await db
    .selectFrom('agents')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('workspace_id', '=', workspaceId)
    .where('agent_id', '=', agentId)
    .executeTakeFirst();
  return row && agentOf(row);
}

export async function listAgents(
  db: Db,
  orgId: string,
  workspaceId: string,
  page: PageRequest,
): Promise<Page<AgentRow>> {
  const { rows, total } = await fetchPage(
    db.selectFrom('agents').selectAll().where('org_id', '=', orgId).where('workspace_id', '=', workspaceId),
    [
      { column: 'created_at', direction: 'asc' },
      { column: 'agent_id', direction: 'asc' },
    ],
    page,
  );
  return { rows: rows.map(agentOf), total };
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
export async function findAgentUsers(
  db: Db,
  orgId: string,
  workspaceId: string,
  agentId: string,
): Promise<{ deployments: string[]; phoneNumbers: string[] }> {
  const [deployments, numbers] = await Promise.all([
    db
      .selectFrom('deployments')
      .select('deployment_id')
      .where('org_id', '=', orgId)
      .where('workspace_id', '=', workspaceId)
      .where('agent_id', '=', agentId)
      .execute(),
    db
      .selectFrom('phone_numbers')
      .select('phone_number')
      .where('org_id', '=', orgId)
      .where('workspace_id', '=', workspaceId)
      .where('agent_id', '=', agentId)
      .execute(),
  ]);
  return { deployments: deployments.map((d) => d.deployment_id), phoneNumbers: numbers.map((n) => n.phone_number) };
}
