-- Fenced jobs: each claim draws a new lease_token, and every write made on behalf of an attempt
-- (heartbeat, contacts, publish, retry, failure) names it; a write whose token is no longer the
-- job's changes nothing. lost_attempts counts the attempts whose process stopped without a word
-- (killed, out of memory, lease expired), so a job that kept crashing can say so when it fails.
ALTER TABLE jobs ADD COLUMN lease_token TEXT;
ALTER TABLE jobs ADD COLUMN lost_attempts INTEGER NOT NULL DEFAULT 0;
