import { sql } from 'kysely';
import type { DialectExpressions } from '../dialect-expressions.js';

// json_each instead of json_extract or ->>: a JSON path cannot spell every key (a `"` in a column
// name breaks it), while json_each compares the key as a bound value. SQLite's default collation
// (BINARY) already orders by byte.
export const sqliteExpressions: DialectExpressions = {
  jsonText: (column, key) => sql<string | null>`(select value from json_each(${sql.ref(column)}) where key = ${key})`,
  jsonAnyValueLike: (column, pattern) =>
    sql<boolean>`exists (select 1 from json_each(${sql.ref(column)}) where lower(value) like ${pattern} escape '\\')`,
  codePointOrder: (text) => text,
};
