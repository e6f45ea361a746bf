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
  return {
    close: () => handle.close(),
    prepare(sql: string) {
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
