-- Erasure requests (#17): POST …/workspaces/{ws}/erasure removes phone numbers from the workspace's
-- contacts, calls, call logs and webhook deliveries at once, then a job (erase_numbers) rewrites
-- the stored cohort and rejection files without their rows. The numbers are kept only while the
-- request is processing; erasure_cohorts lists the cohorts whose files it still has to rewrite,
-- and the file keys it replaced that are still to be deleted.
CREATE TABLE erasures (
  erasure_id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  status TEXT NOT NULL,
  phone_count INTEGER NOT NULL,
  phone_numbers TEXT,
  contacts_removed INTEGER NOT NULL DEFAULT 0,
  calls_removed INTEGER NOT NULL DEFAULT 0,
  call_logs_removed INTEGER NOT NULL DEFAULT 0,
  webhook_deliveries_removed INTEGER NOT NULL DEFAULT 0,
  cohort_file_rows_removed INTEGER NOT NULL DEFAULT 0,
  rejected_file_rows_removed INTEGER NOT NULL DEFAULT 0,
  files_rewritten INTEGER NOT NULL DEFAULT 0,
  files_deleted INTEGER NOT NULL DEFAULT 0,
  error_message TEXT,
  requested_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  completed_at TEXT,
  FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, workspace_id) ON DELETE CASCADE
);
CREATE INDEX erasures_by_workspace ON erasures (org_id, workspace_id, created_at);

CREATE TABLE erasure_cohorts (
  erasure_id TEXT NOT NULL REFERENCES erasures (erasure_id) ON DELETE CASCADE,
  cohort_seq INTEGER NOT NULL,
  done INTEGER NOT NULL DEFAULT 0,
  old_keys TEXT,
  PRIMARY KEY (erasure_id, cohort_seq)
);
CREATE INDEX erasure_cohorts_by_cohort ON erasure_cohorts (cohort_seq, done);
