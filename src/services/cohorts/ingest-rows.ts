import type { Kysely } from 'kysely';
import type { ContactRow, ContactWriter } from '../../storage/contact-writer.js';
import { findFirstRows } from '../../storage/repositories/cohorts-repository.js';
import type { Database } from '../../storage/schema.js';
import { BlockingCohortError } from './cohort-deps.js';
import type { RejectionWriter } from './rejection-writer.js';
import type { RowTransformer, TransformedRow } from './row-transformer.js';

export interface IngestRowsOptions {
  db: Kysely<Database>;
  contacts: ContactWriter;
  cohortSeq: number;
  batches: AsyncIterable<string[][]>;
  transformer: RowTransformer;
  rejections: RejectionWriter;
  /** Rows transformed and written together. */
  unitSize: number;
  /** Units transformed ahead of the one being written: keeps every core busy, bounds memory. */
  depth: number;
  maxRows: number;
  signal: AbortSignal;
}

interface Unit {
  /** The spreadsheet row of the unit's first record (the header is row 1). */
  firstRow: number;
  rows: string[][];
  result: Promise<TransformedRow[]>;
}

async function* regroup(batches: AsyncIterable<string[][]>, size: number): AsyncGenerator<string[][]> {
  let unit: string[][] = [];
  for await (const batch of batches) {
    for (const row of batch) {
      unit.push(row);
      if (unit.length === size) {
        yield unit;
        unit = [];
      }
    }
  }
  if (unit.length > 0) yield unit;
}

/**
 * Streams a cohort's data rows through the transformer and into the database, in file order:
 * while one unit is written the next ones are transformed. Rejections (bad rows and phones that
 * repeat an earlier row) go to the rejection file in row order. Returns the exact counts.
 */
export async function ingestRows(options: IngestRowsOptions): Promise<{ total: number; valid: number }> {
  const { db, contacts, cohortSeq, rejections, signal } = options;
  let total = 0;
  let valid = 0;

  const commit = async (unit: Unit) => {
    const results = await unit.result;
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
    const accepted: ContactRow[] = [];
    const rejected: Array<{ row: number; fields: string[]; reason: string }> = [];
    results.forEach((result, i) => {
      const row = unit.firstRow + i;
      if (result.ok) {
        accepted.push({ cohort_seq: cohortSeq, row_number: row, phone: result.phone, user_identifier: result.userIdentifier, app_variables: result.appVariables, app_overrides: result.appOverrides });
      } else {
        rejected.push({ row, fields: unit.rows[i] ?? [], reason: result.reason });
      }
    });
    const inserted = await contacts.insert(accepted);
    valid += inserted.size;
    const repeated = accepted.filter((c) => !inserted.has(c.row_number));
    if (repeated.length > 0) {
      const firstRows = await findFirstRows(db, cohortSeq, [...new Set(repeated.map((c) => c.phone))]);
      for (const contact of repeated) {
        rejected.push({
          row: contact.row_number,
          fields: unit.rows[contact.row_number - unit.firstRow] ?? [],
          reason: `phone ${contact.phone} repeats row ${firstRows.get(contact.phone) ?? '?'}; the first row is kept`,
        });
      }
    }
    rejected.sort((a, b) => a.row - b.row);
    for (const rejection of rejected) await rejections.add(rejection.fields, rejection.reason);
  };

  const inflight: Unit[] = [];
  for await (const rows of regroup(options.batches, options.unitSize)) {
    const firstRow = total + 2;
    total += rows.length;
    if (total > options.maxRows) {
      throw new BlockingCohortError('too_many_rows', `The file has more than ${options.maxRows} data rows (ROSTER_MAX_ROWS); split it into several cohorts.`, { max_rows: options.maxRows });
    }
    const result = options.transformer.transform(rows);
    // Awaited in order by commit(); until then a failure must not count as unhandled.
    result.catch(() => undefined);
    inflight.push({ firstRow, rows, result });
    if (inflight.length > options.depth) await commit(inflight.shift()!);
  }
  while (inflight.length > 0) await commit(inflight.shift()!);
  return { total, valid };
}
