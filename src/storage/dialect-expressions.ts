import type { RawBuilder } from 'kysely';

/**
 * SQL expressions whose spelling differs between backends, built per dialect in storage/sqlite and
 * storage/postgres. Every caller-supplied name or value is bound as a parameter, never spliced.
 */
export interface DialectExpressions {
  /** The string held under `key` in the JSON object stored as text in `column` (NULL when absent). */
  jsonText(column: string, key: string): RawBuilder<string | null>;
  /**
   * True when some value (never a key) of the JSON object stored as text in `column`, lower-cased,
   * is LIKE `pattern` (written with `\` as its escape character).
   */
  jsonAnyValueLike(column: string, pattern: string): RawBuilder<boolean>;
  /** `text` compared by code point (byte order of UTF-8), the same on every backend whatever its locale. */
  codePointOrder(text: RawBuilder<string | null>): RawBuilder<string | null>;
}
