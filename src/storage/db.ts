import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { ContactLoader } from './contact-loader.js';
import type { DialectExpressions } from './dialect-expressions.js';
import { type KeyChanges, postgresKeyChanges, sqliteKeyChanges } from './key-changes.js';
import { type CallerReads, callerReads, sqliteCallerReads } from './repositories/contacts-repository.js';
import { postgresExpressions } from './postgres/postgres-expressions.js';
import { sqliteExpressions } from './sqlite/sqlite-expressions.js';
import { postgresContactLoader } from './postgres/postgres-contact-loader.js';
import type { Database } from './schema.js';
import { sqliteContactLoader } from './sqlite/sqlite-contact-loader.js';
import { withStatementCache } from './sqlite/statement-cache.js';

export type DialectName = 'sqlite' | 'postgres';

/** What differs between backends, said once here instead of `if (dialect === …)` around the code. */
export interface Capabilities {
  readonly dialect: DialectName;
  /** Whether SELECT … FOR UPDATE SKIP LOCKED exists (PostgreSQL); SQLite serialises writers instead. */
  readonly rowLocking: boolean;
  /** Whether several processes may share this database. */
  readonly multiProcess: boolean;
  /** Expressions spelt differently per backend (JSON fields held as text, code-point text order). */
  readonly expressions: DialectExpressions;
}

export interface Storage {
  readonly db: Kysely<Database>;
  readonly capabilities: Capabilities;
  /** The backend's fastest way to load a cohort's contacts. */
  readonly contacts: ContactLoader;
  /** The call-time read of a caller, the backend's fastest way. */
  readonly callers: CallerReads;
  /** Whether API keys, users or orgs may have changed since a cache read them. */
  readonly keyChanges: KeyChanges;
  /** A short description safe to log (no password). */
  readonly description: string;
  /** The PostgreSQL schema Roster's tables live in, when not the default. */
  readonly schema: string | undefined;
  /** What it was opened with: another thread opens the same storage with these (an ingest thread). */
  readonly options: StorageOptions;
  close(): Promise<void>;
}

export interface StorageOptions {
  /** postgres://… or undefined for SQLite. */
  databaseUrl: string | undefined;
  /** Folder of the SQLite file when databaseUrl is unset. */
  dataDir: string;
  /** PostgreSQL schema to use (tests give each file its own); default `public`. */
  pgSchema?: string;
  poolSize?: number;
  /**
   * PostgreSQL ends a session left idle inside a transaction this long (default 60 s), releasing
   * its row locks: a worker paused or partitioned mid-transaction would otherwise hold its job's
   * row, which claimers skip, so the job could not pass to another worker however long ago its
   * lease ran out. Servers and workers pass twice the job lease.
   */
  idleInTransactionMs?: number;
}

export function openStorage(options: StorageOptions): Storage {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options) : openSqlite(options);
}

function openSqlite(options: StorageOptions): Storage {
  const dataDir = options.dataDir;
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'roster.sqlite');
  const handle = new SqliteDatabase(file);
  handle.pragma('journal_mode = WAL');
  handle.pragma('synchronous = NORMAL');
  handle.pragma('foreign_keys = ON');
  handle.pragma('busy_timeout = 5000');
  // A load of a file not sorted by phone stages its rows in temporary tables (sqlite-staging.ts): on
  // disk, not in memory, with a small page cache of their own.
  handle.pragma('temp_store = FILE');
  handle.pragma('temp.cache_size = -2000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(handle) }) });
  return {
    db,
    capabilities: { dialect: 'sqlite', rowLocking: false, multiProcess: false, expressions: sqliteExpressions },
    contacts: sqliteContactLoader(db, handle),
    callers: sqliteCallerReads(db, handle),
    keyChanges: sqliteKeyChanges(handle),
    description: `sqlite:${file}`,
    schema: undefined,
    options,
    close: () => db.destroy(),
  };
}

/** How long a query waits for a PostgreSQL connection (a new one or a free one in the pool). */
const CONNECT_TIMEOUT_MS = 5000;

function openPostgres(url: string, options: StorageOptions): Storage {
  const schema = options.pgSchema;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // A dead or unreachable database must fail a request (503) within seconds, never hang it: this
    // bounds both opening a connection and waiting for a free one. Keep-alive notices a peer that
    // vanished without closing the connection.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    idle_in_transaction_session_timeout: options.idleInTransactionMs ?? 60_000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  // pg-pool drops its own listener while a client is checked out, and a client that loses its
  // connection then (a database restart mid-query or mid-COPY) emits 'error': with no listener that
  // kills the process. The query in flight rejects on its own, so the event needs only a listener.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const parsed = new URL(url);
  const keyChanges = postgresKeyChanges(url, CONNECT_TIMEOUT_MS);
  return {
    db,
    capabilities: { dialect: 'postgres', rowLocking: true, multiProcess: true, expressions: postgresExpressions },
    contacts: postgresContactLoader(pool),
    callers: callerReads(db),
    keyChanges,
    description: `postgres://${parsed.host}${parsed.pathname}${schema ? `?schema=${schema}` : ''}`,
    schema,
    options,
    close: () => Promise.all([keyChanges.close(), db.destroy()]).then(() => undefined),
  };
}

/** True when the database answers a trivial query. */
export async function pingDatabase(db: Kysely<Database>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
