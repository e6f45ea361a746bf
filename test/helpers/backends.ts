import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openStorage, type DialectName, type Storage } from '../../src/storage/db.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { createScratchDatabase, postgresProblem, TEST_PG_URL } from './test-postgres.js';

export { TEST_PG_URL } from './test-postgres.js';

const inCi = process.env.CI === 'true';

/**
 * The scale-out mode: PostgreSQL, files in an S3-compatible server (s3rver, started by the harness on
 * 127.0.0.1) and no in-process job runner: a `roster worker` process does the jobs.
 */
export const SCALE_OUT = 'postgres+s3+worker';

export type BackendName = DialectName | typeof SCALE_OUT;

export interface TestStorage {
  storage: Storage;
  /** The folder for files (SQLite database, blobs). */
  dataDir: string;
  databaseUrl: string | undefined;
  pgSchema: string | undefined;
  cleanup(): Promise<void>;
}

export interface Backend {
  name: BackendName;
  /** The database the mode runs on. */
  dialect: DialectName;
  /** True in the scale-out mode: `createTestApp` puts files in s3rver and spawns a `roster worker` for the jobs. */
  externalWorker: boolean;
  /** A reason to skip, or false. In CI a missing PostgreSQL is a failure, never a skip. */
  skip: string | false;
  open(): Promise<TestStorage>;
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
 * A scratch database of its own rather than a schema: the worker process is configured like a
 * production one, by ROSTER_DATABASE_URL alone, and that cannot name a schema.
 */
async function openScratchDatabaseBackend(): Promise<TestStorage> {
  const database = await createScratchDatabase('roster_t');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-test-scale-'));
  const storage = openStorage({ databaseUrl: database.url, dataDir, poolSize: 5 });
  const cleanup = async () => {
    await storage.close();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await migrateToLatest(storage);
  } catch (error) {
    await cleanup().catch(() => undefined);
    throw error;
  }
  return { storage, dataDir, databaseUrl: database.url, pgSchema: undefined, cleanup };
}

/**
 * Every backend a contract suite runs on: SQLite and PostgreSQL, and with `scaleOut` the
 * `postgres+s3+worker` mode too (the cohort and batch suites). The PostgreSQL modes are skipped
 * with the reason when PostgreSQL cannot be reached locally; with CI=true they are never skipped,
 * so an unreachable server (or a worker that cannot start) fails the run.
 */
export async function backends(options: { scaleOut?: boolean } = {}): Promise<Backend[]> {
  const problem = await postgresProblem();
  const pgSkip =
    problem === undefined || inCi
      ? false
      : `PostgreSQL at ${TEST_PG_URL} is unreachable (${problem}); set ROSTER_TEST_DATABASE_URL or start it`;
  const list: Backend[] = [
    { name: 'sqlite', dialect: 'sqlite', externalWorker: false, skip: false, open: openSqliteBackend },
    { name: 'postgres', dialect: 'postgres', externalWorker: false, skip: pgSkip, open: openPostgresBackend },
  ];
  if (options.scaleOut)
    list.push({
      name: SCALE_OUT,
      dialect: 'postgres',
      externalWorker: true,
      skip: pgSkip,
      open: openScratchDatabaseBackend,
    });
  return list;
}
