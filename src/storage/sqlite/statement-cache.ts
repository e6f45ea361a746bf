import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/**
 * The better-sqlite3 handle as Kysely sees it, with prepared statements reused: Kysely prepares
 * every query it runs, and preparing costs more than running a keyed read (the caller lookup).
 * better-sqlite3 is synchronous, so one statement is never in use twice at once. The cache is
 * bounded, since queries with IN lists of varying length each have their own SQL.
 */
export function withStatementCache(handle: BetterSqlite3.Database, size = 500): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  // SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, …); Kysely's
  // ROLLBACK then fails with "no transaction is active", and that error would replace the one that
  // says what happened (a full disk). With no transaction open, its ROLLBACK does nothing.
  const noRollback = handle.prepare('select 1 where 0');
  return {
    close: () => handle.close(),
    prepare(sql: string) {
      if (sql === 'rollback' && !handle.inTransaction) return noRollback;
      let statement = cache.get(sql);
      if (statement) {
        // Re-insert to keep the most recently used last.
        cache.delete(sql);
      } else {
        statement = handle.prepare(sql);
        if (cache.size >= size) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, statement);
      return statement;
    },
  } as SqliteDatabase;
}

/**
 * `INSERT INTO <target> (<columns>) VALUES (…), (…) <tail>` for a given number of rows, prepared once
 * per row count: the bulk loads write many rows per statement.
 */
export function multiRowInsert(
  handle: BetterSqlite3.Database,
  target: string,
  columns: readonly string[],
  tail = '',
): (rows: number) => BetterSqlite3.Statement {
  const prepared = new Map<number, BetterSqlite3.Statement>();
  const row = `(${columns.map(() => '?').join(', ')})`;
  return (rows) => {
    let statement = prepared.get(rows);
    if (!statement) {
      const values = Array.from({ length: rows }, () => row).join(', ');
      statement = handle.prepare(`INSERT INTO ${target} (${columns.join(', ')}) VALUES ${values} ${tail}`.trimEnd());
      prepared.set(rows, statement);
    }
    return statement;
  };
}
