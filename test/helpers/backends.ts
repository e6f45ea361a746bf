import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openStorage, type DialectName, type Storage } from '../../src/storage/db.js';
import { migrateToLatest } from '../../src/storage/migrate.js';

/** The PostgreSQL server the PostgreSQL half of the suite uses; each test file gets its own schema in it. */
export const TEST_PG_URL = process.env.ROSTER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const inCi = process.env.CI === 'true';

export interface TestStorage {
  storage: Storage;
  /** The folder for files (SQLite database, blobs). */
  dataDir: string;
  databaseUrl: string | undefined;
  pgSchema: string | undefined;
  cleanup(): Promise<void>;
}

export interface Backend {
  name: DialectName;
  /** A reason to skip, or false. In CI a missing PostgreSQL is a failure, never a skip. */
  skip: string | false;
  open(): Promise<TestStorage>;
}

async function postgresReachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function openSqliteBackend(): Promise<TestStorage> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-test-'));
  const storage = openStorage({ databaseUrl: undefined, dataDir });
  await migrateToLatest(storage);
  return {
    storage,
    dataDir,
    databaseUrl: undefined,
    pgSchema: undefined,
    cleanup: async () => {
      await storage.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function openPostgresBackend(): Promise<TestStorage> {
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-test-pg-'));
  const storage = openStorage({ databaseUrl: TEST_PG_URL, dataDir, pgSchema: schema, poolSize: 5 });
  await migrateToLatest(storage);
  return {
    storage,
    dataDir,
    databaseUrl: TEST_PG_URL,
    pgSchema: schema,
    cleanup: async () => {
      await storage.close();
      const client = new pg.Client({ connectionString: TEST_PG_URL });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Every backend a contract suite runs on. PostgreSQL is skipped with its reason when it cannot be
 * reached locally; with CI=true it is never skipped, so an unreachable server fails the run.
 */
export async function backends(): Promise<Backend[]> {
  const problem = await postgresReachable();
  const pgSkip = problem === undefined || inCi ? false : `PostgreSQL at ${TEST_PG_URL} is unreachable (${problem}); set ROSTER_TEST_DATABASE_URL or start it`;
  return [
    { name: 'sqlite', skip: false, open: openSqliteBackend },
    { name: 'postgres', skip: pgSkip, open: openPostgresBackend },
  ];
}
