-- retry and delay as the batch vendor's createBatch means them (#14): retry counts retries after the
-- first call (it counted every attempt, the first included), and delay is in seconds (it was in
-- minutes). Stored batches keep dialling exactly as before: one fewer retry, sixty times the number.
ALTER TABLE batches RENAME COLUMN delay_minutes TO delay_seconds;
UPDATE batches SET delay_seconds = delay_seconds * 60, retry = greatest(retry - 1, 0);
