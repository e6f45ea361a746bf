import { sql } from 'kysely';
import type { DialectExpressions } from '../dialect-expressions.js';

// ::json, not ::jsonb: the text is only read, and json skips jsonb's conversion. COLLATE "C" makes
// text order bytewise, as on SQLite, instead of the database locale's.
export const postgresExpressions: DialectExpressions = {
  jsonText: (column, key) => sql<string | null>`(${sql.ref(column)}::json ->> ${key}::text)`,
  jsonAnyValueLike: (column, pattern) =>
    sql<boolean>`exists (select 1 from json_each_text(${sql.ref(column)}::json) as v where lower(v.value) like ${pattern} escape '\\')`,
  codePointOrder: (text) => sql<string | null>`(${text} collate "C")`,
};
