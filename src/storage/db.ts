import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { ContactLoader } from './contact-loader.js';
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
}

export interface Storage {
  readonly db: Kysely<Database>;
  readonly capabilities: Capabilities;
  /** The backend's fastest way to load a cohort's contacts. */
  readonly contacts: ContactLoader;
  /** A short description safe to log (no password). */
  readonly description: string;
  /** The PostgreSQL schema Roster's tables live in, when not the default. */
  readonly schema: string | undefined;
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
}

export function openStorage(options: StorageOptions): Storage {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options) : openSqlite(options.dataDir);
}

function openSqlite(dataDir: string): Storage {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'roster.sqlite');
  const handle = new SqliteDatabase(file);
  handle.pragma('journal_mode = WAL');
  handle.pragma('synchronous = NORMAL');
  handle.pragma('foreign_keys = ON');
  handle.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(handle) }) });
  return {
    db,
    capabilities: { dialect: 'sqlite', rowLocking: false, multiProcess: false },
    contacts: sqliteContactLoader(db, handle),
    description: `sqlite:${file}`,
    schema: undefined,
    close: () => db.destroy(),
  };
}

function openPostgres(url: string, options: StorageOptions): Storage {
  const schema = options.pgSchema;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const parsed = new URL(url);
  return {
    db,
    capabilities: { dialect: 'postgres', rowLocking: true, multiProcess: true },
    contacts: postgresContactLoader(pool),
    description: `postgres://${parsed.host}${parsed.pathname}${schema ? `?schema=${schema}` : ''}`,
    schema,
    close: () => db.destroy(),
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
