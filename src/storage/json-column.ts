// JSON held in TEXT columns (both backends store it as text) is parsed here, once, at the
// repository boundary: rows leave the repositories typed, and nothing above them casts.
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/** A JSON column whose text does not hold what its schema says: a bug or a hand-edited row, never user input. */
export class CorruptJsonColumnError extends Error {
  constructor(column: string, problem: string) {
    super(`column ${column} does not hold the expected JSON: ${problem}`);
    this.name = 'CorruptJsonColumnError';
  }
}

/**
 * A reader for one JSON column: parses its text and checks it against `schema` with a compiled
 * checker (caller lookups read two such columns per request, so the check is generated code, not
 * an interpreter walk).
 */
export function jsonColumn<T extends TSchema>(column: string, schema: T): (text: string) => Static<T> {
  const checker = TypeCompiler.Compile(schema);
  return (text) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new CorruptJsonColumnError(column, error instanceof Error ? error.message : String(error));
    }
    if (checker.Check(value)) return value;
    const first = checker.Errors(value).First();
    throw new CorruptJsonColumnError(column, first ? `${first.path || '/'}: ${first.message}` : 'schema mismatch');
  };
}
