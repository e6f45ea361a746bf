import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { DialectName, Storage } from './db.js';
import { projectRoot } from './project-root.js';

/** Reads `migrations/<dialect>/NNNN-name.sql`; each file is one migration, statements split on `;` at line end. */
class SqlFileMigrationProvider implements MigrationProvider {
  constructor(private readonly folder: string) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await readdir(this.folder)).filter((f) => /^\d{4}-[a-z0-9-]+\.sql$/.test(f)).sort();
    const migrations: Record<string, Migration> = {};
    for (const file of files) {
      const text = await readFile(path.join(this.folder, file), 'utf8');
      const statements = splitStatements(text);
      migrations[file.replace(/\.sql$/, '')] = {
        async up(db: Kysely<unknown>) {
          for (const statement of statements) await sql.raw(statement).execute(db);
        },
      };
    }
    return migrations;
  }
}

export function splitStatements(text: string): string[] {
  return text
    .split(/;[ \t]*(?:\r?\n|$)/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}

export function migrationsFolder(dialect: DialectName): string {
  return path.join(projectRoot(), 'migrations', dialect);
}

/**
 * Kysely looks for its bookkeeping tables by name across schemas; naming the schema keeps two
 * Roster databases in one PostgreSQL database (or parallel test schemas) from seeing each other's.
 */
function migratorFor(storage: Storage): Migrator {
  return new Migrator({
    db: storage.db,
    provider: new SqlFileMigrationProvider(migrationsFolder(storage.capabilities.dialect)),
    ...(storage.schema ? { migrationTableSchema: storage.schema } : {}),
  });
}

export interface MigrationReport {
  applied: string[];
}

/**
 * Kysely's migrator starts by listing the tables of every schema in the database, calling
 * has_schema_privilege on each name: when another application (or a parallel test) drops a schema
 * during that scan, the call fails with 3F000 naming that schema. Such a failure says nothing about
 * ours, so it is tried again; a 3F000 about our own schema is a real error.
 */
function isOtherSchemaDropped(error: unknown, storage: Storage): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code !== '3F000' || typeof message !== 'string') return false;
  return storage.schema === undefined || !message.includes(`"${storage.schema}"`);
}

async function withSchemaScanRetries<T>(storage: Storage, run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!isOtherSchemaDropped(error, storage) || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}

/**
 * Applies pending migrations. On PostgreSQL Kysely's migrator takes an advisory lock and runs in a
 * transaction, so API and worker processes starting together apply each file once. On SQLite it
 * takes no lock at all: one server process owns the database file (workers and `--no-worker` need
 * PostgreSQL), so there is no race to guard; a statement that meets another connection's write
 * (`roster migrate` next to a running server) gets SQLITE_BUSY and the run is tried again.
 */
export async function migrateToLatest(storage: Storage): Promise<MigrationReport> {
  const migrator = migratorFor(storage);
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
    const busy = String((error as { code?: string }).code ?? '').startsWith('SQLITE_BUSY');
    const retry = busy || isOtherSchemaDropped(error, storage);
    if (!retry || attempt >= 20) throw error;
    await new Promise((resolve) => setTimeout(resolve, (busy ? 100 : 20) * attempt));
  }
}

/** Names of migrations not yet applied (empty when the schema is current). */
export async function pendingMigrations(storage: Storage): Promise<string[]> {
  const migrator = migratorFor(storage);
  const all = await withSchemaScanRetries(storage, () => migrator.getMigrations());
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
