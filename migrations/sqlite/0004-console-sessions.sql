-- Web console sessions. Only the SHA-256 of the cookie's token is stored. A session belongs to an
-- API key (deleted with it) or to the master key; key_hash is the hash of the key signed in with,
-- compared on every request, so a revoked key or a changed master key ends its sessions at once.
CREATE TABLE console_sessions (
  token_hash TEXT PRIMARY KEY,
  key_id TEXT REFERENCES api_keys (key_id) ON DELETE CASCADE,
  is_master INTEGER NOT NULL,
  key_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);
CREATE INDEX console_sessions_by_key ON console_sessions (key_id);
