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
import { startStaging, type Staging, type StagingConnection } from './sqlite-staging.js';
import { multiRowInsert } from './statement-cache.js';

/** Rows per INSERT statement: 50 rows of 6 values each, well under SQLite's 32,766 parameters. */
const ROWS_PER_STATEMENT = 50;
const COLUMNS = ['cohort_seq', 'row_number', 'phone', 'user_identifier', 'app_variables', 'app_overrides'];

/**
 * Writes each unit straight into `contacts` while the file comes in phone order (each unit's phones
 * all above the ones written before it), which costs the unique (phone, cohort) index least; from the
 * first unit that breaks that order on, the rest of the file is staged and moved in phone order at
 * the end (sqlite-staging.ts). Straight writes are multi-row INSERT statements (50 rows each,
 * prepared once per row count) inside one transaction, under Kysely's only connection so it never
 * interleaves with another transaction. Each transaction first checks that the attempt still holds
 * its job. A phone the cohort already holds is skipped by the unique index and rejected as a repeat:
 * when a statement writes fewer rows than it was given, the rows it kept are read back by phone
 * (a row was written when the cohort holds its phone at its own row number). Repeats are rare, so
 * the read-back is too. (Measured for issue 16 with better-sqlite3: 50-row statements write about
 * twice the rows a second of one statement per row.)
 */
export function sqliteContactLoader(db: Kysely<Database>, handle: BetterSqlite3.Database): ContactLoader {
  const insertOf = multiRowInsert(handle, 'contacts', COLUMNS, 'ON CONFLICT (phone, cohort_seq) DO NOTHING');
  let hold: BetterSqlite3.Statement | undefined;
  const connection: StagingConnection = {
    handle,
    onConnection: (work) => db.connection().execute(async () => work()),
    holdJob(fence, doing) {
      hold ??= handle.prepare(HOLD_JOB_SQL.replace(/\$\d+/g, '?'));
      if (hold.run(...holdJobParams(fence.claim, fence.leaseMs)).changes === 0)
        throw new LeaseLostError(fence.claim, doing);
    },
  };
  let loads = 0;
  let rowOfPhone: BetterSqlite3.Statement | undefined;
  const insert = (rows: ContactRow[], fence: LoadFence): Promise<Set<number>> =>
    connection.onConnection(() => {
      rowOfPhone ??= handle.prepare('SELECT row_number FROM contacts WHERE phone = ? AND cohort_seq = ?').pluck();
      const storedRow = rowOfPhone;
      const inserted = new Set<number>();
      handle.transaction((batch: ContactRow[]) => {
        connection.holdJob(fence, 'writing contacts');
        for (let from = 0; from < batch.length; from += ROWS_PER_STATEMENT) {
          const chunk = batch.slice(from, from + ROWS_PER_STATEMENT);
          const params: unknown[] = [];
          for (const r of chunk)
            params.push(r.cohort_seq, r.row_number, r.phone, r.user_identifier, r.app_variables, r.app_overrides);
          const written = insertOf(chunk.length).run(...params).changes;
          for (const r of chunk) {
            if (written === chunk.length || Number(storedRow.get(r.phone, r.cohort_seq)) === r.row_number)
              inserted.add(r.row_number);
          }
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
    async begin(cohortSeq, sink, fence, beforeWrite) {
      let valid = 0;
      /** The highest phone written straight into `contacts` so far. */
      let highest = '';
      let staging: Staging | undefined;
      return {
        async add(unit) {
          if (staging === undefined && unit.accepted.some((c) => c.phone <= highest))
            // Two cohorts can load at once on one connection (small files load on the server's own thread).
            staging = await startStaging(connection, `roster_staging_${cohortSeq}_${++loads}`, cohortSeq, {
              sink,
              fence,
              beforeWrite,
            });
          if (staging !== undefined) return staging.add(unit);
          for (const contact of unit.accepted) if (contact.phone > highest) highest = contact.phone;
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
        finish: async () => valid + (staging === undefined ? 0 : await staging.finish()),
        abort: async () => staging?.abort(),
      };
    },
  };
}
