import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { repeatReason, type ContactLoader, type ContactRow, type RowRejection } from '../contact-loader.js';
import { deleteContactsOfCohort, findFirstRows } from '../repositories/cohorts-repository.js';
import type { Database } from '../schema.js';

/**
 * Writes each unit as it comes, straight into `contacts`: one prepared statement run per row inside
 * one transaction, under Kysely's only connection so it never interleaves with another transaction.
 * A phone the cohort already holds is skipped by the unique index and rejected as a repeat.
 */
export function sqliteContactLoader(db: Kysely<Database>, handle: BetterSqlite3.Database): ContactLoader {
  let statement: BetterSqlite3.Statement | undefined;
  const insert = (rows: ContactRow[]): Promise<Set<number>> =>
    db.connection().execute(async () => {
      statement ??= handle.prepare(
        'INSERT INTO contacts (cohort_seq, row_number, phone, user_identifier, app_variables, app_overrides) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (phone, cohort_seq) DO NOTHING',
      );
      const run = statement;
      const inserted = new Set<number>();
      handle.transaction((batch: ContactRow[]) => {
        for (const r of batch) {
          if (run.run(r.cohort_seq, r.row_number, r.phone, r.user_identifier, r.app_variables, r.app_overrides).changes > 0) inserted.add(r.row_number);
        }
      })(rows);
      return inserted;
    });

  return {
    clear: (cohortSeq) => deleteContactsOfCohort(db, cohortSeq),
    async begin(cohortSeq, sink) {
      let valid = 0;
      return {
        async add(unit) {
          const inserted = unit.accepted.length > 0 ? await insert(unit.accepted) : new Set<number>();
          valid += inserted.size;
          const rejected: RowRejection[] = [...unit.rejected];
          const repeated = unit.accepted.filter((c) => !inserted.has(c.row_number));
          if (repeated.length > 0) {
            const firstRows = await findFirstRows(db, cohortSeq, [...new Set(repeated.map((c) => c.phone))]);
            for (const contact of repeated) {
              rejected.push({ row: contact.row_number, fields: unit.rows[contact.row_number - unit.firstRow] ?? [], reason: repeatReason(contact.phone, firstRows.get(contact.phone)) });
            }
            rejected.sort((a, b) => a.row - b.row);
          }
          for (const rejection of rejected) await sink.add(rejection.fields, rejection.reason);
        },
        finish: async () => valid,
        abort: async () => undefined,
      };
    },
  };
}
