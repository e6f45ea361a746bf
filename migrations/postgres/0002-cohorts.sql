-- Cohorts, their contacts, and the job table the runner claims work from.
CREATE TABLE cohorts (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  cohort_id TEXT NOT NULL UNIQUE,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source_url TEXT,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_by TEXT,
  updated_at TEXT NOT NULL,
  total_records BIGINT,
  valid_records BIGINT,
  rejected_records BIGINT,
  error_code TEXT,
  error_message TEXT,
  error_details TEXT,
  transformation TEXT NOT NULL,
  file_key TEXT,
  file_encoding TEXT,
  file_bytes BIGINT,
  rejected_file_key TEXT,
  FOREIGN KEY (org_id, workspace_id, deployment_id) REFERENCES deployments (org_id, workspace_id, deployment_id) ON DELETE CASCADE
);
CREATE INDEX cohorts_by_deployment ON cohorts (org_id, workspace_id, deployment_id, seq);

-- One row per accepted CSV row. (phone, cohort_seq) is unique: it dedupes a file and serves the
-- caller lookup (newest cohort first) from one index.
CREATE TABLE contacts (
  cohort_seq BIGINT NOT NULL REFERENCES cohorts (seq) ON DELETE CASCADE,
  row_number BIGINT NOT NULL,
  phone TEXT NOT NULL,
  user_identifier TEXT,
  app_variables TEXT NOT NULL,
  app_overrides TEXT NOT NULL
);
CREATE UNIQUE INDEX contacts_by_phone ON contacts (phone, cohort_seq);
CREATE INDEX contacts_by_cohort ON contacts (cohort_seq);

CREATE TABLE jobs (
  job_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  run_at TEXT NOT NULL,
  locked_by TEXT,
  locked_until TEXT,
  last_error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_at);
