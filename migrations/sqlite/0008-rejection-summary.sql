-- A completed cohort's rejected rows counted by code (#15): JSON [{code, count, example_row}], the most
-- frequent first. Cohorts completed before it without a rejection get the empty list; those with
-- rejections keep NULL, since which rules refused their rows was not recorded (the API answers null).
ALTER TABLE cohorts ADD COLUMN rejections_by_reason TEXT;
UPDATE cohorts SET rejections_by_reason = '[]' WHERE status = 'completed' AND rejected_records = 0;
