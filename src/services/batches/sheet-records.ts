import { AppError } from '../../errors.js';

export type SheetKind = 'csv' | 'xlsx' | 'xls';

/** Bounds on an uploaded file; anything over them is refused as 'spreadsheet_too_large'. */
export interface SheetLimits {
  /** Size of the stored file. */
  maxBytes: number;
  /** Data rows, not counting the header. */
  maxRows: number;
  /** Cells in any row, the header included. */
  maxColumns: number;
  /** Bytes (as UTF-8) of one CSV row, the header included; a longer one is refused as 'invalid_spreadsheet'. */
  maxRowBytes: number;
  /** Entries in an .xlsx zip. */
  maxZipEntries: number;
  /** Bytes an .xlsx zip inflates to, all entries together. */
  maxUncompressedBytes: number;
}

export type SheetErrorCode = 'unsupported_file_type' | 'invalid_spreadsheet' | 'spreadsheet_too_large';

/**
 * A file the client sent that cannot be read as a sheet (a 400). It is an AppError because limits
 * are also met while batches are taken, after readSheetRecords has returned: the error handler then
 * answers with the right envelope even where a caller maps only the errors readSheetRecords throws.
 */
export class SheetError extends AppError {
  override readonly name = 'SheetError';

  constructor(
    override readonly code: SheetErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

export interface SheetRecords {
  /** The header row; undefined when the sheet has no row at all. */
  header: string[] | undefined;
  /** Data rows in sheet order, in batches, read as they are taken. */
  batches: AsyncIterable<string[][]>;
  /** Stops reading and releases the file. */
  close(): void;
}

export const BATCH_ROWS = 1000;

export function tooManyRows(limits: SheetLimits): SheetError {
  return new SheetError('spreadsheet_too_large', `The sheet has more than ${limits.maxRows} rows.`);
}

export function tooManyColumns(limits: SheetLimits): SheetError {
  return new SheetError('spreadsheet_too_large', `A row has more than ${limits.maxColumns} columns.`);
}

/**
 * Turns a spreadsheet's rows (blank rows already left out) into records: the first row is the
 * header, the rest come in batches of BATCH_ROWS, each row checked against the limits as it passes.
 * Rows are pulled only as batches are taken, so the reader behind them waits meanwhile.
 */
export async function recordsFromRows(
  rows: AsyncGenerator<string[]>,
  limits: SheetLimits,
  release: () => void,
): Promise<SheetRecords> {
  let first: IteratorResult<string[]>;
  try {
    first = await rows.next();
  } catch (error) {
    release();
    throw error;
  }
  const header = first.done ? undefined : first.value;
  if (header && header.length > limits.maxColumns) {
    release();
    throw tooManyColumns(limits);
  }
  const batches = async function* (): AsyncGenerator<string[][]> {
    let batch: string[][] = [];
    let count = 0;
    try {
      for await (const row of rows) {
        if (++count > limits.maxRows) throw tooManyRows(limits);
        if (row.length > limits.maxColumns) throw tooManyColumns(limits);
        batch.push(row);
        if (batch.length >= BATCH_ROWS) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    } finally {
      release();
    }
  };
  return { header, batches: batches(), close: release };
}
