-- Outbound calling batches, their calls, each attempt's log, and the do-not-call list.
CREATE TABLE batches (
  batch_id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  batch_name TEXT NOT NULL,
  batch_type TEXT NOT NULL,
  status TEXT NOT NULL,
  calling_numbers TEXT NOT NULL,
  enable_dnc INTEGER NOT NULL,
  retry INTEGER NOT NULL,
  delay_minutes INTEGER NOT NULL,
  timezone TEXT NOT NULL,
  calling_start TEXT NOT NULL,
  calling_end TEXT NOT NULL,
  allowed_days TEXT NOT NULL,
  total_calls INTEGER NOT NULL,
  skipped_invalid INTEGER NOT NULL,
  skipped_duplicate INTEGER NOT NULL,
  skipped_dnc INTEGER NOT NULL,
  rotation INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, workspace_id) ON DELETE CASCADE
);
CREATE INDEX batches_by_workspace ON batches (org_id, workspace_id, created_at);

CREATE TABLE calls (
  call_id TEXT PRIMARY KEY,
  batch_id TEXT NOT NULL REFERENCES batches (batch_id) ON DELETE CASCADE,
  row_number INTEGER,
  phone TEXT NOT NULL,
  variables TEXT NOT NULL,
  timezone TEXT,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at TEXT NOT NULL,
  lease_id TEXT,
  lease_until TEXT,
  caller_number TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (batch_id, phone)
);
CREATE INDEX calls_due ON calls (status, next_attempt_at);
CREATE INDEX calls_by_batch ON calls (batch_id, created_at);

CREATE TABLE call_logs (
  log_id TEXT PRIMARY KEY,
  call_id TEXT NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  call_status TEXT NOT NULL,
  call_duration INTEGER,
  recording_url TEXT,
  transcript TEXT,
  caller_number TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX call_logs_by_call ON call_logs (call_id, attempt);

CREATE TABLE dnc_numbers (
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  phone TEXT NOT NULL,
  reason TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (org_id, workspace_id, phone),
  FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, workspace_id) ON DELETE CASCADE
);
