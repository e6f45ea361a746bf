-- A processing cohort's progress (#15), written by its ingest attempt through the attempt's fence
-- each second or 10,000 rows: data rows written and file bytes read so far, rows kept and rejected so far,
-- and when the attempt started. A new attempt resets them; progress_started_at is NULL until an
-- attempt has started. The file's size is cohorts.file_bytes.
ALTER TABLE cohorts ADD COLUMN progress_started_at TEXT;
ALTER TABLE cohorts ADD COLUMN progress_rows INTEGER;
ALTER TABLE cohorts ADD COLUMN progress_bytes INTEGER;
ALTER TABLE cohorts ADD COLUMN progress_valid INTEGER;
ALTER TABLE cohorts ADD COLUMN progress_rejected INTEGER;
