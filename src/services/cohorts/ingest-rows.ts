import type { ContactLoad, ContactRow, RowRejection } from '../../storage/contact-loader.js';
import { BlockingCohortError } from './cohort-deps.js';
import type { RowTransformer, TransformedUnit } from './row-transformer.js';

export interface IngestRowsOptions {
  /** Where the transformed units go, in file order; it also hands rejections on, in row order. */
  load: ContactLoad;
  cohortSeq: number;
  batches: AsyncIterable<string[][]>;
  transformer: RowTransformer;
  /** Rows transformed and written together (fewer when they are large: a unit holds about 4 MB at most). */
  unitSize: number;
  /** Units transformed ahead of the one being written: keeps every core busy, bounds memory. */
  depth: number;
  maxRows: number;
  signal: AbortSignal;
  /**
   * After each unit is written: the data rows written so far, and how many the transformer kept
   * and refused (a phone that repeats an earlier row is known only when the load finishes).
   */
  onUnit?: (written: UnitCounts) => Promise<void>;
}

export interface UnitCounts {
  rows: number;
  valid: number;
  rejected: number;
}

interface Unit {
  /** The spreadsheet row of the unit's first record (the header is row 1). */
  firstRow: number;
  rows: string[][];
  result: Promise<TransformedUnit>;
}

/**
 * A unit's memory budget, beside its row count: rows near the row-size limit (or with a million
 * empty fields each) would otherwise make a unit of `unitSize` rows hundreds of megabytes.
 */
const UNIT_MAX_BYTES = 4 * 1024 * 1024;
/** What a field costs beyond its characters: the string and its slot in the row's array. */
const FIELD_OVERHEAD_BYTES = 16;

async function* regroup(batches: AsyncIterable<string[][]>, size: number): AsyncGenerator<string[][]> {
  let unit: string[][] = [];
  let weight = 0;
  for await (const batch of batches) {
    for (const row of batch) {
      unit.push(row);
      for (const field of row) weight += field.length * 2 + FIELD_OVERHEAD_BYTES;
      if (unit.length === size || weight >= UNIT_MAX_BYTES) {
        yield unit;
        unit = [];
        weight = 0;
      }
    }
  }
  if (unit.length > 0) yield unit;
}

/**
 * Streams a cohort's data rows through the transformer into the load, in file order: while one
 * unit is written the next ones are transformed. Returns the number of data rows; the load knows
 * how many became contacts (a phone that repeats an earlier row is rejected by the load).
 */
export async function ingestRows(options: IngestRowsOptions): Promise<number> {
  const { load, cohortSeq, signal } = options;
  let total = 0;
  const written: UnitCounts = { rows: 0, valid: 0, rejected: 0 };

  const commit = async (unit: Unit) => {
    const result = await unit.result;
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
    const phones = result.phones.split('\n');
    const appVariables = result.appVariables.split('\n');
    const appOverrides = result.appOverrides.split('\n');
    const accepted: ContactRow[] = [];
    const rejected: RowRejection[] = [];
    let refused = 0;
    for (let i = 0; i < unit.rows.length; i++) {
      const row = unit.firstRow + i;
      if (result.kept[i] === 1) {
        const k = accepted.length;
        accepted.push({
          cohort_seq: cohortSeq,
          row_number: row,
          phone: phones[k]!,
          user_identifier: result.userIdentifiers[k] ?? null,
          app_variables: appVariables[k]!,
          app_overrides: appOverrides[k]!,
        });
      } else {
        const refusal = result.refusals[refused++]!;
        rejected.push({ row, fields: unit.rows[i] ?? [], code: refusal.code, reason: refusal.reason });
      }
    }
    await load.add({ firstRow: unit.firstRow, rows: unit.rows, accepted, rejected });
    written.rows += unit.rows.length;
    written.valid += accepted.length;
    written.rejected += rejected.length;
    await options.onUnit?.({ ...written });
  };

  const inflight: Unit[] = [];
  for await (const rows of regroup(options.batches, options.unitSize)) {
    const firstRow = total + 2;
    total += rows.length;
    if (total > options.maxRows) {
      throw new BlockingCohortError(
        'too_many_rows',
        `The file has more than ${options.maxRows} data rows (ROSTER_MAX_ROWS); split it into several cohorts.`,
        { max_rows: options.maxRows },
      );
    }
    const result = options.transformer.transform(rows);
    // Awaited in order by commit(); until then a failure must not count as unhandled.
    result.catch(() => undefined);
    inflight.push({ firstRow, rows, result });
    if (inflight.length > options.depth) await commit(inflight.shift()!);
  }
  while (inflight.length > 0) await commit(inflight.shift()!);
  return total;
}
