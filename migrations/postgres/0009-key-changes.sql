-- A cache of verified API keys (#16) must see every change to a key, its user or its org, made by
-- any session (any API instance, a cascade, an operator at psql): these triggers notify the channel
-- each API process listens on when the change commits (src/storage/key-changes.ts). Notifications
-- go to the whole database, so the payload names the schema; listeners treat any as a change.
CREATE FUNCTION roster_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('roster_key_changes', current_schema()); RETURN NULL; END $$;
CREATE TRIGGER api_keys_changed AFTER UPDATE OR DELETE OR TRUNCATE ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION roster_key_changed();
CREATE TRIGGER users_changed AFTER UPDATE OR DELETE OR TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION roster_key_changed();
CREATE TRIGGER orgs_changed AFTER UPDATE OR DELETE OR TRUNCATE ON orgs FOR EACH STATEMENT EXECUTE FUNCTION roster_key_changed();
