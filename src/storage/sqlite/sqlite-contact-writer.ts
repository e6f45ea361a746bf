import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { ContactRow, ContactWriter } from '../contact-writer.js';
import type { Database } from '../schema.js';

/**
 * One prepared statement run per row inside one transaction: no SQL built per batch. It runs while
 * holding Kysely's only connection, so it never interleaves with another transaction in flight.
 */
export function sqliteContactWriter(db: Kysely<Database>, handle: BetterSqlite3.Database): ContactWriter {
  let statement: BetterSqlite3.Statement | undefined;
  return {
    insert(rows) {
      return db.connection().execute(async () => {
        statement ??= handle.prepare(
          'INSERT INTO contacts (cohort_seq, row_number, phone, user_identifier, app_variables, app_overrides) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (phone, cohort_seq) DO NOTHING',
        );
        const insert = statement;
        const inserted = new Set<number>();
        handle.transaction((batch: ContactRow[]) => {
          for (const r of batch) {
            if (insert.run(r.cohort_seq, r.row_number, r.phone, r.user_identifier, r.app_variables, r.app_overrides).changes > 0) inserted.add(r.row_number);
          }
        })(rows);
        return inserted;
      });
    },
  };
}
