-- Cohort retention (#17): a deployment may keep cohorts for cohort_retention_days; a scheduled run
-- deletes older ones (not the newest holder of any phone, unless cohort_retention_strict = 1).
-- next_run_at is when the next run is due; last_run_at when one last ran.
ALTER TABLE deployments ADD COLUMN cohort_retention_days INTEGER;
ALTER TABLE deployments ADD COLUMN cohort_retention_strict INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deployments ADD COLUMN cohort_retention_last_run_at TEXT;
ALTER TABLE deployments ADD COLUMN cohort_retention_next_run_at TEXT;
CREATE INDEX deployments_by_retention_run ON deployments (cohort_retention_next_run_at);
