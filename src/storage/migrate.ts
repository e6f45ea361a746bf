import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type DatabaseIntrospector,
  type DatabaseMetadata,
  Migrator,
  type Kysely,
  type Migration,
  type MigrationProvider,
  type SchemaMetadata,
  sql,
  type TableMetadata,
} from 'kysely';
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
 * What Kysely's migrator learns of the database: on PostgreSQL only Roster's own schema. Its
 * built-in introspector lists every table of every schema (calling has_schema_privilege and reading
 * each table's columns), which fails when another application or a parallel test drops a schema
 * during the scan, and would let two Roster schemas in one database see each other's bookkeeping.
 * The migrator only asks which schemas and tables exist, so that is all this answers.
 */
class OwnSchemaIntrospector implements DatabaseIntrospector {
  constructor(
    private readonly db: Kysely<unknown>,
    private readonly schema: string | undefined,
  ) {}

  private ownSchema() {
    return this.schema === undefined ? sql<string>`current_schema()` : sql<string>`${this.schema}`;
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`
      select nspname as name from pg_catalog.pg_namespace where nspname = ${this.ownSchema()}`.execute(this.db);
    return rows;
  }

  async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{ name: string; schema: string }>`
      select c.relname as name, n.nspname as schema
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${this.ownSchema()} and c.relkind in ('r', 'p')`.execute(this.db);
    return rows.map((row) => ({ ...row, isView: false, columns: [] }));
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}

/**
 * The migrator's view of the storage: on PostgreSQL the same connections, with the introspector
 * above; its bookkeeping tables live in Roster's schema (`migrationTableSchema`), so two Roster
 * databases in one PostgreSQL database (or parallel test schemas) never see each other's.
 */
function migratorFor(storage: Storage): Migrator {
  const db = storage.db as Kysely<unknown>;
  const scoped =
    storage.capabilities.dialect === 'postgres'
      ? new Proxy(db, {
          get(target, property) {
            if (property === 'introspection') return new OwnSchemaIntrospector(target, storage.schema);
            const value = Reflect.get(target, property, target) as unknown;
            return typeof value === 'function' ? value.bind(target) : value;
          },
        })
      : db;
  return new Migrator({
    db: scoped,
    provider: new SqlFileMigrationProvider(migrationsFolder(storage.capabilities.dialect)),
    ...(storage.schema ? { migrationTableSchema: storage.schema } : {}),
  });
}

export interface MigrationReport {
  applied: string[];
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
