import { sql, type Kysely } from 'kysely';
import type { ContactWriter } from '../contact-writer.js';
import type { Database } from '../schema.js';

/**
 * One statement per batch with six array parameters, unnested server-side: the statement text and
 * its parameter count stay the same whatever the batch size, instead of six parameters per row.
 * Rows go in file order, so of two rows with one phone the first is kept.
 */
export function postgresContactWriter(db: Kysely<Database>): ContactWriter {
  return {
    async insert(rows) {
      if (rows.length === 0) return new Set();
      const { rows: inserted } = await sql<{ row_number: string | number }>`
        insert into contacts (cohort_seq, row_number, phone, user_identifier, app_variables, app_overrides)
        select cohort_seq, row_number, phone, user_identifier, app_variables, app_overrides from unnest(
          ${rows.map((r) => r.cohort_seq)}::bigint[], ${rows.map((r) => r.row_number)}::bigint[], ${rows.map((r) => r.phone)}::text[],
          ${rows.map((r) => r.user_identifier)}::text[], ${rows.map((r) => r.app_variables)}::text[], ${rows.map((r) => r.app_overrides)}::text[]
        ) with ordinality as t(cohort_seq, row_number, phone, user_identifier, app_variables, app_overrides, position)
        order by position
        on conflict (phone, cohort_seq) do nothing
        returning row_number`.execute(db);
      return new Set(inserted.map((r) => Number(r.row_number)));
    },
  };
}
