import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { appendFile, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../helpers/spawn-server.js';
import { createScratchDatabase } from '../../helpers/test-postgres.js';
import { onProcessExit } from '../../helpers/exit-cleanup.js';

const run = promisify(execFile);
const PG_ROOT = '/usr/lib/postgresql';

/** The bin folder of the newest PostgreSQL server installed (ROSTER_TEST_PG_BIN overrides), or undefined. */
export function postgresBinDir(): string | undefined {
  const override = process.env.ROSTER_TEST_PG_BIN;
  if (override) return existsSync(path.join(override, 'initdb')) ? override : undefined;
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter(
      (name) =>
        existsSync(path.join(PG_ROOT, name, 'bin', 'initdb')) && existsSync(path.join(PG_ROOT, name, 'bin', 'pg_ctl')),
    )
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  return versions[0] === undefined ? undefined : path.join(PG_ROOT, versions[0], 'bin');
}

/** Whether the `postgres` OS user exists (the server refuses to run as root). */
function hasPostgresUser(): boolean {
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Undefined when a private PostgreSQL can be created here, else why not. */
export function privatePostgresProblem(): string | undefined {
  if (!postgresBinDir())
    return `no PostgreSQL server binaries (initdb, pg_ctl) under ${PG_ROOT}/<version>/bin; install postgresql or set ROSTER_TEST_PG_BIN`;
  if (process.getuid?.() === 0 && !hasPostgresUser())
    return 'running as root and there is no postgres OS user to run the server as';
  return undefined;
}

export type StopMode = 'fast' | 'immediate';

/** A PostgreSQL server of the test's own in a temporary folder, on its own port on 127.0.0.1, trust auth. */
export interface PrivatePostgres {
  port: number;
  /** The temporary folder: `data/` (the cluster), `server.log`, the Unix socket. */
  folder: string;
  /** Starts the server and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it: `fast` disconnects clients and shuts down cleanly; `immediate` aborts like a crash (recovery at next start). */
  stop(mode?: StopMode): Promise<void>;
  /** Stops it (fast) and starts it again. */
  restart(mode?: StopMode): Promise<void>;
  /** True while the server runs (as far as this harness started or stopped it). */
  running(): boolean;
  /** The connection URL of `dbName` (default `postgres`) as the `postgres` superuser. */
  url(dbName?: string): string;
  /** A fresh database on this server; `drop()` removes it (the server must be up). */
  createDatabase(prefix?: string): Promise<{ url: string; drop(): Promise<void> }>;
  /** The server log, for a failing test's message. */
  log(): Promise<string>;
  /** Stops the server (immediate) and removes the folder; also done at process exit. */
  destroy(): Promise<void>;
}

/**
 * Creates (initdb, as the `postgres` OS user when running as root) and starts a private PostgreSQL:
 * stopping or restarting it disturbs no other test, since the shared server on 5432 is another.
 * fsync and synchronous commit are off and memory is small: it is for faults, not durability.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const problem = privatePostgresProblem();
  if (problem) throw new Error(`cannot create a private PostgreSQL: ${problem}`);
  const bin = postgresBinDir()!;
  const asRoot = process.getuid?.() === 0;
  const folder = await mkdtemp(path.join(os.tmpdir(), 'roster-pg-'));
  const dataDir = path.join(folder, 'data');
  const logFile = path.join(folder, 'server.log');
  const port = await freePort();
  let up = false;

  /** Runs a server binary as the postgres user (root) or as ourselves. */
  const pgRun = (tool: string, args: string[], timeoutMs = 60_000) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args], { timeout: timeoutMs })
      : run(path.join(bin, tool), args, { timeout: timeoutMs });
  const pgRunSync = (tool: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args], {
          stdio: 'ignore',
          timeout: 30_000,
        })
      : execFileSync(path.join(bin, tool), args, { stdio: 'ignore', timeout: 30_000 });

  const unregister = onProcessExit(() => {
    try {
      if (existsSync(path.join(dataDir, 'postmaster.pid')))
        pgRunSync('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w']);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  try {
    if (asRoot) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      await chown(folder, Number(stdout.trim()), Number(gid.trim()));
    }
    await pgRun('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
    // Appended settings win over initdb's defaults.
    const settings = [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${folder}'`,
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'shared_buffers = 32MB',
      'max_connections = 60',
      'max_wal_size = 256MB',
      'log_min_messages = warning',
    ];
    // Appending as root keeps the file's owner (postgres); the server only reads it.
    await appendFile(
      path.join(dataDir, 'postgresql.conf'),
      `\n# roster fault-injection harness\n${settings.join('\n')}\n`,
    );
  } catch (error) {
    unregister();
    await rm(folder, { recursive: true, force: true });
    throw error;
  }

  const url = (dbName = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${dbName}`;

  async function start(): Promise<void> {
    if (up) return;
    try {
      await pgRun('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60']);
    } catch (error) {
      throw new Error(
        `private PostgreSQL did not start: ${(error as Error).message}\n${await readFile(logFile, 'utf8').catch(() => '')}`,
      );
    }
    up = true;
  }

  async function stop(mode: StopMode = 'fast'): Promise<void> {
    if (!up && !existsSync(path.join(dataDir, 'postmaster.pid'))) return;
    await pgRun('pg_ctl', ['stop', '-D', dataDir, '-m', mode, '-w', '-t', '60']);
    up = false;
  }

  const server: PrivatePostgres = {
    port,
    folder,
    start,
    stop,
    async restart(mode: StopMode = 'fast') {
      await stop(mode);
      await start();
    },
    running: () => up,
    url,
    createDatabase: (prefix = 'roster_fault') => createScratchDatabase(prefix, url()),
    log: () => readFile(logFile, 'utf8').catch(() => ''),
    async destroy() {
      try {
        await stop('immediate');
      } finally {
        unregister();
        await rm(folder, { recursive: true, force: true });
      }
    },
  };
  try {
    await start();
  } catch (error) {
    await server.destroy().catch(() => undefined);
    throw error;
  }
  return server;
}

/** Runs one query on `url` with a client of its own (short connect timeout): for probing a server that may be down. */
export async function queryOnce<R extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}
