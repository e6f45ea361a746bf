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
 * Applies pending migrations. Kysely's migrator holds a lock while it runs (an advisory lock on
 * PostgreSQL, the write lock on SQLite), so instances starting together apply each file once.
 * A SQLite writer that loses the race sees SQLITE_BUSY and simply tries again.
 */
export async function migrateToLatest(storage: Storage): Promise<MigrationReport> {
  const migrator = migratorFor(storage);
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
    const busy = String((error as { code?: string }).code ?? '').startsWith('SQLITE_BUSY');
    if (!busy || attempt >= 20) throw error;
    await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
  }
}

/** Names of migrations not yet applied (empty when the schema is current). */
export async function pendingMigrations(storage: Storage): Promise<string[]> {
  const migrator = migratorFor(storage);
  const all = await migrator.getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
