-- A cache of verified API keys (#16) must see every change to a key, its user or its org, made by
-- any connection (the API, a cascade, an operator's sqlite3 shell): these triggers count them in one
-- row, which the cache reads before it answers (src/storage/key-changes.ts).
CREATE TABLE key_changes (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO key_changes (id, version) VALUES (1, 0);
CREATE TRIGGER api_keys_updated AFTER UPDATE ON api_keys BEGIN UPDATE key_changes SET version = version + 1; END;
CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys BEGIN UPDATE key_changes SET version = version + 1; END;
CREATE TRIGGER users_updated AFTER UPDATE ON users BEGIN UPDATE key_changes SET version = version + 1; END;
CREATE TRIGGER users_deleted AFTER DELETE ON users BEGIN UPDATE key_changes SET version = version + 1; END;
CREATE TRIGGER orgs_updated AFTER UPDATE ON orgs BEGIN UPDATE key_changes SET version = version + 1; END;
CREATE TRIGGER orgs_deleted AFTER DELETE ON orgs BEGIN UPDATE key_changes SET version = version + 1; END;
