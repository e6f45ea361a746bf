import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { queryOnce } from './private-postgres.js';

/** A job row as the fault tests read it. */
export interface JobState {
  status: string;
  attempts: number;
  max_attempts: number;
  lost_attempts: number;
  last_error: string | null;
}

/**
 * Reads a Roster store from outside its processes (a connection of its own, or the SQLite file
 * opened read-only per query), so a test can watch an ingest while the processes run, pause or die.
 */
export interface StoreProbe {
  /** Contacts stored for the cohort (visible to lookups only once it is completed). */
  contacts(cohortId: string): Promise<{ rows: number; phones: number }>;
  /** The cohort's ingest job. */
  job(cohortId: string): Promise<JobState>;
  /** Rows the ingest has handed to the database so far: the COPY's progress on PostgreSQL, stored contacts on SQLite. */
  progress(cohortId: string): Promise<number>;
}

const CONTACTS = (cohortId: string) =>
  `select count(*) as n, count(distinct phone) as phones from contacts c join cohorts h on h.seq = c.cohort_seq where h.cohort_id = '${cohortId.replace(/[^a-z0-9-]/g, '')}'`;
const JOB = (cohortId: string) =>
  `select status, attempts, max_attempts, lost_attempts, last_error from jobs where payload like '%${cohortId.replace(/[^a-z0-9-]/g, '')}%'`;

/** A probe of the SQLite store under `dataDir`. */
export function sqliteProbe(dataDir: string): StoreProbe {
  const read = <R>(text: string): R[] => {
    const db = new SqliteDatabase(path.join(dataDir, 'roster.sqlite'), { readonly: true, timeout: 5000 });
    try {
      return db.prepare(text).all() as R[];
    } finally {
      db.close();
    }
  };
  const contacts = async (cohortId: string) => {
    const row = read<{ n: number; phones: number }>(CONTACTS(cohortId))[0]!;
    return { rows: Number(row.n), phones: Number(row.phones) };
  };
  return {
    contacts,
    job: async (cohortId) => read<JobState>(JOB(cohortId))[0]!,
    progress: async (cohortId) => (await contacts(cohortId)).rows,
  };
}

/** A probe of the PostgreSQL database at `url`. */
export function postgresProbe(url: string): StoreProbe {
  const contacts = async (cohortId: string) => {
    const row = (await queryOnce<{ n: string; phones: string }>(url, CONTACTS(cohortId)))[0]!;
    return { rows: Number(row.n), phones: Number(row.phones) };
  };
  return {
    contacts,
    job: async (cohortId) => {
      const row = (await queryOnce<JobState>(url, JOB(cohortId)))[0]!;
      return {
        ...row,
        attempts: Number(row.attempts),
        max_attempts: Number(row.max_attempts),
        lost_attempts: Number(row.lost_attempts),
      };
    },
    async progress() {
      const rows = await queryOnce<{ n: string }>(
        url,
        'select coalesce(max(tuples_processed), 0) as n from pg_stat_progress_copy where datname = current_database()',
      );
      return Number(rows[0]!.n);
    },
  };
}

/** Waits until `check()` is true, polling every `intervalMs`; fails with `what` past `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
