-- Contacts lose their foreign key to cohorts (#16): PostgreSQL checked it row by row, locking the
-- cohort's row once per contact, which doubled the cost of writing a cohort's contacts (1M rows:
-- 6.4 s with the key, 3.2 s without). What the key guaranteed is kept another way:
--  * a load locks its cohort's row (FOR KEY SHARE) once, in the transaction that writes the
--    contacts, and writes nothing when the cohort is gone (postgres-contact-loader.ts): a cohort
--    cannot be deleted under a load that has not committed;
--  * deleting cohorts (directly, or by a cascade from a deployment, workspace or org) deletes their
--    contacts, by these triggers, in the same statement's transaction.
ALTER TABLE contacts DROP CONSTRAINT contacts_cohort_seq_fkey;
CREATE FUNCTION roster_cohorts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM contacts WHERE cohort_seq IN (SELECT seq FROM gone); RETURN NULL; END $$;
CREATE TRIGGER cohorts_deleted AFTER DELETE ON cohorts REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION roster_cohorts_deleted();
CREATE FUNCTION roster_cohorts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN TRUNCATE contacts; RETURN NULL; END $$;
CREATE TRIGGER cohorts_truncated AFTER TRUNCATE ON cohorts FOR EACH STATEMENT EXECUTE FUNCTION roster_cohorts_truncated();
