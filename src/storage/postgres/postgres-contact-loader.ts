import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import Papa from 'papaparse';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { repeatReason, type ContactLoad, type ContactLoader, type LoadUnit, type RejectionSink } from '../contact-loader.js';

/** Rejections read back per round trip at the end of a load. */
const FETCH_ROWS = 5000;

const STAGING = 'roster_contact_staging';

/**
 * Streams every row of the file (kept or not) into a temporary staging table with one COPY, then
 * writes the contacts with one set-based INSERT (the first row of each phone wins) and reads the
 * rejections back in row order with a cursor: 1M rows are one COPY and a few statements, not 1M
 * round trips. The staging table is private to the load's own connection and disappears with it,
 * so a worker that dies mid-load leaves nothing staged behind. The contacts become visible only
 * when the cohort is published, in one statement, after the load.
 */
export function postgresContactLoader(pool: pg.Pool): ContactLoader {
  return {
    async clear(cohortSeq) {
      await pool.query('delete from contacts where cohort_seq = $1', [cohortSeq]);
    },
    async begin(cohortSeq, sink) {
      const client = await pool.connect();
      try {
        await client.query(`drop table if exists pg_temp.${STAGING}`);
        // fields (the row as uploaded, as JSON) are read back only for the rows that end up
        // rejected; reason is set for the rows the transformer refused.
        await client.query(
          `create temp table ${STAGING} (row_number bigint not null, phone text, user_identifier text, app_variables text, app_overrides text, fields text not null, reason text)`,
        );
        return stagedLoad(client, cohortSeq, sink);
      } catch (error) {
        client.release(true);
        throw error;
      }
    },
  };
}

/** The CSV line of each row of a unit, in row order, for COPY … (FORMAT csv). */
function stagingText(unit: LoadUnit): string {
  const records: Array<Array<string | number | null>> = [];
  const reasons = new Map(unit.rejected.map((r) => [r.row, r.reason]));
  let next = 0;
  unit.rows.forEach((fields, i) => {
    const row = unit.firstRow + i;
    const json = JSON.stringify(fields);
    const reason = reasons.get(row);
    if (reason !== undefined) {
      // A header name can carry U+0000 into a reason; PostgreSQL text cannot hold it.
      records.push([row, null, null, null, null, json, reason.replaceAll('\u0000', '\ufffd')]);
      return;
    }
    const contact = unit.accepted[next++];
    if (contact?.row_number !== row) throw new Error(`staging: row ${row} is neither accepted nor rejected`);
    records.push([row, contact.phone, contact.user_identifier, contact.app_variables, contact.app_overrides, json, null]);
  });
  // Every value quoted, so an empty string stays one and only a missing value (unquoted) is NULL.
  return `${Papa.unparse(records, { header: false, quotes: true, newline: '\n' })}\n`;
}

function stagedLoad(client: pg.PoolClient, cohortSeq: number, sink: RejectionSink): ContactLoad {
  const copy = client.query(copyFrom(`copy ${STAGING} (row_number, phone, user_identifier, app_variables, app_overrides, fields, reason) from stdin with (format csv)`));
  const copied = finished(copy);
  // Awaited in add() and finish(); until then a failed COPY must not count as unhandled.
  copied.catch(() => undefined);
  let released = false;
  const release = (discard: boolean) => {
    if (released) return;
    released = true;
    client.release(discard);
  };

  return {
    async add(unit) {
      if (!copy.write(stagingText(unit))) await Promise.race([once(copy, 'drain'), copied]);
    },

    async finish() {
      try {
        copy.end();
        await copied;
        const inserted = await client.query(
          `insert into contacts (cohort_seq, row_number, phone, user_identifier, app_variables, app_overrides)
           select distinct on (phone) $1::bigint, row_number, phone, user_identifier, app_variables, app_overrides
           from ${STAGING} where reason is null order by phone, row_number`,
          [cohortSeq],
        );
        await client.query('begin');
        await client.query(
          `declare rejected no scroll cursor for
           select row_number, fields, reason, phone, first_row from (
             select row_number, fields, reason, phone, min(row_number) over (partition by phone) as first_row from ${STAGING}
           ) s where reason is not null or row_number <> first_row order by row_number`,
        );
        for (;;) {
          const { rows } = await client.query<{ fields: string; reason: string | null; phone: string | null; first_row: string }>(`fetch ${FETCH_ROWS} from rejected`);
          for (const r of rows) await sink.add(JSON.parse(r.fields) as string[], r.reason ?? repeatReason(r.phone ?? '', Number(r.first_row)));
          if (rows.length < FETCH_ROWS) break;
        }
        await client.query('commit');
        await client.query(`drop table ${STAGING}`);
        release(false);
        return inserted.rowCount ?? 0;
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
