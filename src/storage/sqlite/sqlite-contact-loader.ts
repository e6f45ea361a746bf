import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import {
  REPEAT_CODE,
  repeatReason,
  type ContactLoader,
  type ContactRow,
  type LoadFence,
  type RowRejection,
} from '../contact-loader.js';
import { deleteContactsOfCohort, findFirstRows } from '../repositories/contacts-repository.js';
import { HOLD_JOB_SQL, holdJobParams, LeaseLostError, withHeldJob } from '../repositories/jobs-repository.js';
import type { Database } from '../schema.js';

/**
 * Writes each unit as it comes, straight into `contacts`: one prepared statement run per row inside
 * one transaction, under Kysely's only connection so it never interleaves with another transaction.
 * Each transaction first checks that the attempt still holds its job. A phone the cohort already
 * holds is skipped by the unique index and rejected as a repeat.
 */
export function sqliteContactLoader(db: Kysely<Database>, handle: BetterSqlite3.Database): ContactLoader {
  let statements: { insert: BetterSqlite3.Statement; hold: BetterSqlite3.Statement } | undefined;
  const insert = (rows: ContactRow[], fence: LoadFence): Promise<Set<number>> =>
    db.connection().execute(async () => {
      statements ??= {
        insert: handle.prepare(
          'INSERT INTO contacts (cohort_seq, row_number, phone, user_identifier, app_variables, app_overrides) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (phone, cohort_seq) DO NOTHING',
        ),
        hold: handle.prepare(HOLD_JOB_SQL.replace(/\$\d+/g, '?')),
      };
      const { insert: run, hold } = statements;
      const inserted = new Set<number>();
      handle.transaction((batch: ContactRow[]) => {
        if (hold.run(...holdJobParams(fence.claim, fence.leaseMs)).changes === 0)
          throw new LeaseLostError(fence.claim, 'writing contacts');
        for (const r of batch) {
          if (
            run.run(r.cohort_seq, r.row_number, r.phone, r.user_identifier, r.app_variables, r.app_overrides).changes >
            0
          )
            inserted.add(r.row_number);
        }
      })(rows);
      return inserted;
    });

  return {
    async clear(cohortSeq, fence) {
      if (!fence) return deleteContactsOfCohort(db, cohortSeq);
      await withHeldJob(
        db,
        fence.claim,
        { now: () => new Date(), leaseMs: fence.leaseMs },
        'clearing contacts',
        (trx) => deleteContactsOfCohort(trx, cohortSeq),
      );
    },
    async begin(cohortSeq, sink, fence) {
      let valid = 0;
      return {
        async add(unit) {
          const inserted = unit.accepted.length > 0 ? await insert(unit.accepted, fence) : new Set<number>();
          valid += inserted.size;
          const rejected: RowRejection[] = [...unit.rejected];
          const repeated = unit.accepted.filter((c) => !inserted.has(c.row_number));
          if (repeated.length > 0) {
            const firstRows = await findFirstRows(db, cohortSeq, [...new Set(repeated.map((c) => c.phone))]);
            for (const contact of repeated) {
              rejected.push({
                row: contact.row_number,
                fields: unit.rows[contact.row_number - unit.firstRow] ?? [],
                code: REPEAT_CODE,
                reason: repeatReason(contact.phone, firstRows.get(contact.phone)),
              });
            }
            rejected.sort((a, b) => a.row - b.row);
          }
          for (const rejection of rejected) await sink.add(rejection);
        },
        finish: async () => valid,
        abort: async () => undefined,
      };
    },
  };
}
