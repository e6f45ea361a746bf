/** Table shapes as Kysely sees them. JSON columns hold serialised text on both backends. */
export interface SettingsTable {
  key: string;
  value: string;
}

export interface OrgsTable {
  org_id: string;
  name: string;
  created_at: string;
}

export interface WorkspacesTable {
  org_id: string;
  workspace_id: string;
  name: string;
  created_at: string;
}

export interface UsersTable {
  user_id: string;
  org_id: string;
  email: string;
  name: string | null;
  created_at: string;
}

export interface AgentsTable {
  org_id: string;
  workspace_id: string;
  agent_id: string;
  name: string;
  variables: string;
  languages: string;
  states: string;
  created_at: string;
}

export interface DeploymentsTable {
  org_id: string;
  workspace_id: string;
  deployment_id: string;
  name: string;
  agent_id: string;
  default_country: string | null;
  created_at: string;
}

export interface PhoneNumbersTable {
  phone_number_id: string;
  org_id: string;
  workspace_id: string;
  phone_number: string;
  agent_id: string;
  label: string | null;
  created_at: string;
}

export interface ApiKeysTable {
  key_id: string;
  org_id: string;
  user_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  workspaces: string;
  created_at: string;
}

export interface Database {
  settings: SettingsTable;
  orgs: OrgsTable;
  workspaces: WorkspacesTable;
  users: UsersTable;
  agents: AgentsTable;
  deployments: DeploymentsTable;
  phone_numbers: PhoneNumbersTable;
  api_keys: ApiKeysTable;
}
