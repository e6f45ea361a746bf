import type { Kysely } from 'kysely';
import type { ContactWriter } from '../contact-writer.js';
import type { Database } from '../schema.js';

/** Multi-row INSERT … ON CONFLICT DO NOTHING RETURNING, in slices under PostgreSQL's parameter limit. */
export function postgresContactWriter(db: Kysely<Database>): ContactWriter {
  const SLICE = 5000; // 6 parameters a row; PostgreSQL allows 65535 per statement
  return {
    async insert(rows) {
      const inserted = new Set<number>();
      for (let i = 0; i < rows.length; i += SLICE) {
        const slice = rows.slice(i, i + SLICE);
        const result = await db
          .insertInto('contacts')
          .values(slice)
          .onConflict((oc) => oc.columns(['phone', 'cohort_seq']).doNothing())
          .returning('row_number')
          .execute();
        for (const r of result) inserted.add(Number(r.row_number));
      }
      return inserted;
    },
  };
}
