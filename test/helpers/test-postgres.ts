import pg from 'pg';

/** The PostgreSQL server the PostgreSQL modes of the suites use; each test file gets its own schema or database in it. */
export const TEST_PG_URL = process.env.ROSTER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Undefined when PostgreSQL answers, else why it does not. */
export async function postgresProblem(serverUrl = TEST_PG_URL): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 2000 });
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

async function adminQuery(serverUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database on the test server, dropped after. Used where another process must share the
 * database (a spawned server or worker), since only this process's pool can be pointed at a schema.
 */
export async function createScratchDatabase(
  prefix = 'roster_e2e',
  serverUrl = TEST_PG_URL,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await adminQuery(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => adminQuery(serverUrl, `drop database if exists ${name} with (force)`),
  };
}
