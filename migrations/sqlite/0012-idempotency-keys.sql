-- Idempotency keys (#17): a create sent with `Idempotency-Key` claims (org, key) before it runs, and
-- keeps the answer it gave so that a repeat within the retention (ROSTER_IDEMPOTENCY_TTL_HOURS) gets
-- it again. `holder` and `locked_until` belong to the request still running (renewed while it runs);
-- `recovery_*` is written in the transaction that created the resource, so a repeat after its
-- handler died still answers that resource instead of creating a second one.
CREATE TABLE idempotency_keys (
  org_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  request_hash TEXT,
  holder TEXT,
  locked_until TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  response_status INTEGER,
  response_headers TEXT,
  response_body TEXT,
  recovery_status INTEGER,
  recovery_body TEXT,
  PRIMARY KEY (org_id, idempotency_key)
);
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
