import { Type } from '@sinclair/typebox';
import type BetterSqlite3 from 'better-sqlite3';
import type { RowRejectionCode } from '../../domain/ingest/row-rejection.js';
import {
  REPEAT_CODE,
  repeatReason,
  stagedRecords,
  type LoadFence,
  type LoadUnit,
  type RejectionSink,
} from '../contact-loader.js';
import { jsonColumn } from '../json-column.js';
import { multiRowInsert } from './statement-cache.js';

/** Staged rows per INSERT statement: 50 rows of 8 values each, well under SQLite's 32,766 parameters. */
const ROWS_PER_STATEMENT = 50;
/**
 * Staged rows moved into `contacts` per transaction: about what a unit writes (ROSTER_INGEST_BATCH_SIZE
 * rows by default), so each move holds the write lock briefly and fits in the disk reserve checked
 * before it. (50,000 rows a move wrote past an 8 MB reserve on a nearly full disk, and the cohort
 * stayed `processing`: test/faults/disk-full-ingest.test.ts.)
 */
const MOVE_ROWS = 1000;
/** Rejections read back per call at the end of a load. */
const FETCH_ROWS = 5000;

const STAGED_COLUMNS = [
  'row_number',
  'phone',
  'user_identifier',
  'app_variables',
  'app_overrides',
  'fields',
  'code',
  'reason',
];

/** A staged row's cells as uploaded, read back for the rejection file. */
const readFields = jsonColumn('staging.fields', Type.Array(Type.String()));

interface StagedRejection {
  row_number: number;
  fields: string;
  code: RowRejectionCode | null;
  reason: string | null;
  phone: string | null;
  first_row: number | null;
}

/** What staging borrows from the loader: the connection, one call at a time, and the job's fence. */
export interface StagingConnection {
  handle: BetterSqlite3.Database;
  /** Runs `work` with Kysely's only connection to itself, so it never interleaves with a transaction. */
  onConnection: <T>(work: () => T) => Promise<T>;
  /** Inside a transaction: checks that the attempt still holds its job and renews its lease (LeaseLostError if not). */
  holdJob: (fence: LoadFence, doing: string) => void;
}

export interface Staging {
  add(unit: LoadUnit): Promise<void>;
  /** Moves the staged contacts into `contacts` and hands the staged rejections to the sink; returns the contacts written. */
  finish(): Promise<number>;
  abort(): Promise<void>;
}

/**
 * The rows of a load that do not come in phone order, staged in a temporary table without a unique
 * key (every row, kept or refused, with its fields as uploaded), then moved into `contacts` in phone
 * order, the first row of each phone winning, MOVE_ROWS phones a transaction. In phone order each page
 * of the unique (phone, cohort) index is written about once; in file order a 1000-row commit rewrote
 * about a thousand of them, and a shuffled 1M-row file took twice as long as the same rows sorted
 * (issue 16). The rows staged all come after the rows the load wrote straight into `contacts`, so a
 * staged row whose phone is already there repeats one of those.
 *
 * The tables live in the connection's temporary database (a file SQLite deletes when the connection
 * closes, under SQLITE_TMPDIR, else /var/tmp or /tmp): a worker that dies mid-load leaves nothing
 * staged, and writing them takes no lock on the database file. Each staged unit still renews (and
 * checks) the attempt's lease, and each move runs in a transaction that checks it first, after
 * `beforeWrite` (the disk reserve) let it.
 */
export async function startStaging(
  connection: StagingConnection,
  stage: string,
  cohortSeq: number,
  load: { sink: RejectionSink; fence: LoadFence; beforeWrite: (() => Promise<void>) | undefined },
): Promise<Staging> {
  const { handle, onConnection, holdJob } = connection;
  const { sink, fence, beforeWrite } = load;
  const rejections = `${stage}_rejected`;
  const dropTables = () =>
    onConnection(() => {
      handle.exec(`DROP TABLE IF EXISTS temp.${stage}`);
      handle.exec(`DROP TABLE IF EXISTS temp.${rejections}`);
    });
  await dropTables();
  const refused = await onConnection(() => {
    handle.exec(
      `CREATE TEMP TABLE ${stage} (row_number INTEGER PRIMARY KEY, phone TEXT, user_identifier TEXT, app_variables TEXT, app_overrides TEXT, fields TEXT NOT NULL, code TEXT, reason TEXT)`,
    );
    // The rows to reject, by row: refused rows as they are staged, repeats of a phone at the end.
    handle.exec(`CREATE TEMP TABLE ${rejections} (row_number INTEGER PRIMARY KEY, first_row INTEGER)`);
    return handle.prepare(`INSERT INTO temp.${rejections} (row_number) VALUES (?)`);
  });
  const insertOf = multiRowInsert(handle, `temp.${stage}`, STAGED_COLUMNS);

  /** Indexes the kept rows by phone and finds the repeats: of a row already in `contacts`, or of an earlier staged row. */
  const findRepeats = () =>
    onConnection(() => {
      // Covering, in phone order: the moves read it in order, never the table's rows.
      handle.exec(
        `CREATE INDEX temp.${stage}_by_phone ON ${stage} (phone, row_number, user_identifier, app_variables, app_overrides) WHERE reason IS NULL`,
      );
      // The cohort's rows in `contacts` so far were written before any row was staged (CROSS JOIN: read them first).
      handle
        .prepare(
          `INSERT INTO temp.${rejections} SELECT s.row_number, c.row_number FROM contacts c CROSS JOIN temp.${stage} s
           WHERE c.cohort_seq = ? AND s.phone = c.phone AND s.reason IS NULL`,
        )
        .run(cohortSeq);
      handle.exec(
        `INSERT OR IGNORE INTO temp.${rejections} SELECT s.row_number, f.first_row
         FROM (SELECT phone, min(row_number) AS first_row FROM temp.${stage} WHERE reason IS NULL GROUP BY phone HAVING count(*) > 1) f
         JOIN temp.${stage} s ON s.reason IS NULL AND s.phone = f.phone AND s.row_number > f.first_row`,
      );
    });

  /** Moves the first row of each phone into `contacts`, MOVE_ROWS phones a transaction; returns how many. */
  const moveContacts = async (): Promise<number> => {
    const kept = `FROM temp.${stage} WHERE reason IS NULL`;
    // SQLite takes the other columns of a min() aggregate from the row holding the minimum. A phone
    // already in `contacts` (a row written before staging began) is left there: it is the first.
    const moved = (range: string) =>
      `INSERT INTO contacts (cohort_seq, row_number, phone, user_identifier, app_variables, app_overrides)
       SELECT ?, min(row_number), phone, user_identifier, app_variables, app_overrides ${kept} AND ${range} GROUP BY phone
       ON CONFLICT (phone, cohort_seq) DO NOTHING`;
    const { upTo, between, rest } = await onConnection(() => ({
      upTo: handle.prepare(`SELECT phone ${kept} AND phone > ? ORDER BY phone LIMIT 1 OFFSET ${MOVE_ROWS - 1}`).pluck(),
      between: handle.prepare(moved('phone > ? AND phone <= ?')),
      rest: handle.prepare(moved('phone > ?')),
    }));
    let count = 0;
    for (let after = ''; ; ) {
      await beforeWrite?.();
      const { to, changes } = await onConnection(() =>
        handle.transaction(() => {
          holdJob(fence, 'writing contacts');
          const to = upTo.get(after) as string | undefined;
          const statement = to === undefined ? rest.run(cohortSeq, after) : between.run(cohortSeq, after, to);
          return { to, changes: statement.changes };
        })(),
      );
      count += changes;
      if (to === undefined) return count;
      after = to;
    }
  };

  /** Hands the refused rows and the repeats to the sink, in row order. */
  const sendRejections = async () => {
    const page = await onConnection(() =>
      handle.prepare(
        `SELECT r.row_number, s.fields, s.code, s.reason, s.phone, r.first_row
         FROM temp.${rejections} r JOIN temp.${stage} s ON s.row_number = r.row_number
         WHERE r.row_number > ? ORDER BY r.row_number LIMIT ${FETCH_ROWS}`,
      ),
    );
    for (let after = 0; ; ) {
      const rows = (await onConnection(() => page.all(after))) as StagedRejection[];
      for (const r of rows) {
        await sink.add({
          row: r.row_number,
          fields: readFields(r.fields),
          code: r.code ?? REPEAT_CODE,
          reason: r.reason ?? repeatReason(r.phone ?? '', r.first_row ?? undefined),
        });
      }
      if (rows.length < FETCH_ROWS) return;
      after = rows[rows.length - 1]!.row_number;
    }
  };

  return {
    async add(unit) {
      const records = stagedRecords(unit);
      await onConnection(() =>
        handle.transaction(() => {
          holdJob(fence, 'staging contacts');
          for (let from = 0; from < records.length; from += ROWS_PER_STATEMENT) {
            const chunk = records.slice(from, from + ROWS_PER_STATEMENT);
            insertOf(chunk.length).run(...chunk.flat());
          }
          for (const rejection of unit.rejected) refused.run(rejection.row);
        })(),
      );
    },
    async finish() {
      try {
        await findRepeats();
        const moved = await moveContacts();
        await sendRejections();
        return moved;
      } finally {
        await dropTables();
      }
    },
    async abort() {
      await dropTables().catch(() => undefined);
    },
  };
}
