-- Every write made through the API or the console (#17): who (key and user, or the master key), what
-- (method, route, the path with phone numbers masked, the resource), when, and how it ended. Events
-- outlive what they describe: no foreign keys, so deleting an org or a key keeps its history.
CREATE TABLE audit_events (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  occurred_at TEXT NOT NULL,
  org_id TEXT,
  workspace_id TEXT,
  actor TEXT NOT NULL,
  key_id TEXT,
  user_id TEXT,
  user_email TEXT,
  via TEXT NOT NULL,
  method TEXT NOT NULL,
  route TEXT NOT NULL,
  path TEXT NOT NULL,
  resource_id TEXT,
  status INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  error_code TEXT,
  request_id TEXT NOT NULL
);
CREATE INDEX audit_events_by_org ON audit_events (org_id, seq);
