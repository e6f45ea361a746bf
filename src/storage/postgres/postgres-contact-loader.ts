import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { Type } from '@sinclair/typebox';
import Papa from 'papaparse';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { RowRejectionCode } from '../../domain/ingest/row-rejection.js';
import {
  REPEAT_CODE,
  repeatReason,
  type ContactLoad,
  type ContactLoader,
  type LoadFence,
  type LoadUnit,
  type RejectionSink,
  stagedRecords,
} from '../contact-loader.js';
import { jsonColumn } from '../json-column.js';
import { SeenPhones } from '../seen-phones.js';
import { HOLD_JOB_SQL, holdJobParams, LeaseLostError, RENEW_HELD_JOB_SQL } from '../repositories/jobs-repository.js';

/** Rejections read back per round trip at the end of a load. */
const FETCH_ROWS = 5000;

const STAGING = 'roster_contact_staging';

/** A staged row's cells as uploaded, read back for the rejection file. */
const readFields = jsonColumn(`${STAGING}.fields`, Type.Array(Type.String()));

/**
 * Streams every row of the file (kept or not) into a temporary staging table with one COPY, then
 * writes the contacts with one set-based INSERT (the first row of each phone wins) and reads the
 * rejections back in row order with a cursor: 1M rows are one COPY and a few statements, not 1M
 * round trips. The staging table is private to the load's own connection and disappears with it,
 * so a worker that dies mid-load leaves nothing staged behind. The contacts become visible only
 * when the cohort is published, in one statement, after the load. Writes to `contacts` run in a
 * transaction that first checks the attempt's lease and holds the job's row lock (claimers skip it),
 * so a zombie attempt can neither insert after the job's new holder cleared nor clear what it wrote.
 */
export function postgresContactLoader(pool: pg.Pool): ContactLoader {
  return {
    async clear(cohortSeq, fence) {
      if (!fence) {
        await pool.query('delete from contacts where cohort_seq = $1', [cohortSeq]);
        return;
      }
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('begin');
        await holdJob(client, fence, 'clearing contacts');
        await client.query('delete from contacts where cohort_seq = $1', [cohortSeq]);
        await client.query('commit');
      } catch (error) {
        broken = true;
        throw error;
      } finally {
        // A failed transaction's connection is discarded rather than rolled back: it may be dead.
        client.release(broken);
      }
    },
    async begin(cohortSeq, sink, fence) {
      const client = await pool.connect();
      try {
        await client.query(`drop table if exists pg_temp.${STAGING}`);
        // fields (the row as uploaded, as JSON) are read back only for the rows that end up
        // rejected, so a kept row whose phone is new to the file has none (SeenPhones); code and
        // reason are set for the rows the transformer refused.
        await client.query(
          `create temp table ${STAGING} (row_number bigint not null, phone text, user_identifier text, app_variables text, app_overrides text, fields text, code text, reason text)`,
        );
        return stagedLoad(client, cohortSeq, sink, fence);
      } catch (error) {
        client.release(true);
        throw error;
      }
    },
  };
}

/** The CSV line of each row of a unit, in row order, for COPY … (FORMAT csv). */
function stagingText(unit: LoadUnit, seen: SeenPhones): string {
  const records = stagedRecords(unit, seen);
  // A header name can carry U+0000 into a reason; PostgreSQL text cannot hold it.
  for (const record of records) if (record[7] !== null) record[7] = record[7].replaceAll('\u0000', '\ufffd');
  // Every value quoted, so an empty string stays one and only a missing value (unquoted) is NULL.
  return `${Papa.unparse(records, { header: false, quotes: true, newline: '\n' })}\n`;
}

/** Checks and renews the attempt's lease inside the client's open transaction; throws LeaseLostError when lost. */
async function holdJob(client: pg.PoolClient, fence: LoadFence, doing: string): Promise<void> {
  const held = await client.query(HOLD_JOB_SQL, holdJobParams(fence.claim, fence.leaseMs));
  if (held.rowCount === 0) throw new LeaseLostError(fence.claim, doing);
}

function stagedLoad(client: pg.PoolClient, cohortSeq: number, sink: RejectionSink, fence: LoadFence): ContactLoad {
  const copy = client.query(
    copyFrom(
      `copy ${STAGING} (row_number, phone, user_identifier, app_variables, app_overrides, fields, code, reason) from stdin with (format csv)`,
    ),
  );
  const copied = finished(copy);
  // Awaited in add() and finish(); until then a failed COPY must not count as unhandled.
  copied.catch(() => undefined);
  // Half the staged text was the fields of kept rows, which only a repeat needs (1M rows: 285 -> 191 MB).
  const seen = new SeenPhones();
  let staged = 0;
  let released = false;
  const release = (discard: boolean) => {
    if (released) return;
    released = true;
    client.release(discard);
  };

  return {
    async add(unit) {
      staged += unit.rows.length;
      if (!copy.write(stagingText(unit, seen))) await Promise.race([once(copy, 'drain'), copied]);
    },

    async finish() {
      try {
        copy.end();
        await copied;
        await client.query('begin');
        await holdJob(client, fence, 'writing contacts');
        // Contacts have no foreign key (checked row by row it doubled the insert: migration 0010):
        // the cohort's row is locked once instead, so it cannot be deleted until this commits, and
        // its deletion then deletes these contacts (a trigger).
        const cohort = await client.query('select 1 from cohorts where seq = $1 for key share', [cohortSeq]);
        if (cohort.rowCount === 0) throw new Error(`cohort ${cohortSeq} was deleted while its contacts were loading`);
        const inserted = await client.query(
          `insert into contacts (cohort_seq, row_number, phone, user_identifier, app_variables, app_overrides)
           select distinct on (phone) $1::bigint, row_number, phone, user_identifier, app_variables, app_overrides
           from ${STAGING} where reason is null order by phone, row_number`,
          [cohortSeq],
        );
        // The insert may outlast the lease; nobody could claim the locked row meanwhile, so renew it.
        const [until, jobId, , token] = holdJobParams(fence.claim, fence.leaseMs);
        await client.query(RENEW_HELD_JOB_SQL, [until, jobId, token]);
        await client.query('commit');
        await client.query('begin');
        // A kept row's phone seen again at a later row is a repeat: found here, in SQL, and given its
        // code here, so the sink counts repeats with the transformer's rejections.
        let rejections = 0;
        // Only rows with fields staged can be rejected (a repeat's phone was seen before: SeenPhones);
        // the first row of each of their phones is the contact the insert just wrote for it.
        await client.query(
          `declare rejected no scroll cursor for
           select row_number, fields, coalesce(code, '${REPEAT_CODE}') as code, reason, phone, first_row from (
             select s.row_number, s.fields, s.code, s.reason, s.phone,
               (select k.row_number from contacts k where k.phone = s.phone and k.cohort_seq = $1::bigint) as first_row
             from ${STAGING} s where s.fields is not null
           ) candidates where reason is not null or first_row <> row_number order by row_number`,
          [cohortSeq],
        );
        for (;;) {
          const { rows } = await client.query<{
            row_number: string;
            fields: string;
            code: RowRejectionCode;
            reason: string | null;
            phone: string | null;
            first_row: string;
          }>(`fetch ${FETCH_ROWS} from rejected`);
          rejections += rows.length;
          for (const r of rows)
            await sink.add({
              row: Number(r.row_number),
              fields: readFields(r.fields),
              code: r.code,
              reason: r.reason ?? repeatReason(r.phone ?? '', Number(r.first_row)),
            });
          if (rows.length < FETCH_ROWS) break;
        }
        // Every staged row is a contact or a rejection; a row in neither would be a bug (a repeat
        // whose fields were not staged), never a cohort published with counts that do not add up.
        const written = inserted.rowCount ?? 0;
        if (written + rejections !== staged)
          throw new Error(`staging: ${staged} rows staged, but ${written} written and ${rejections} rejected`);
        await client.query('commit');
        await client.query(`drop table ${STAGING}`);
        release(false);
        return written;
      } catch (error) {
        release(true);
        throw error;
      }
    },

    async abort() {
      copy.destroy();
      release(true);
    },
  };
}
