-- Tenancy, API keys and instance settings (PostgreSQL).
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE orgs (
  org_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE workspaces (
  org_id TEXT NOT NULL REFERENCES orgs (org_id) ON DELETE CASCADE,
  workspace_id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (org_id, workspace_id)
);

CREATE TABLE users (
  user_id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (org_id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  name TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (org_id, email)
);

CREATE TABLE agents (
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  name TEXT NOT NULL,
  variables TEXT NOT NULL,
  languages TEXT NOT NULL,
  states TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (org_id, workspace_id, agent_id),
  FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, workspace_id) ON DELETE CASCADE
);

CREATE TABLE deployments (
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  name TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  default_country TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (org_id, workspace_id, deployment_id),
  FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, workspace_id) ON DELETE CASCADE
);

CREATE TABLE phone_numbers (
  phone_number_id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  phone_number TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  label TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (org_id, workspace_id, phone_number),
  FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, workspace_id) ON DELETE CASCADE
);

CREATE TABLE api_keys (
  key_id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs (org_id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL UNIQUE,
  key_hash TEXT NOT NULL,
  workspaces TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX api_keys_org ON api_keys (org_id);
