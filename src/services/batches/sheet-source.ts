import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvRowTooLongError, EncodingSniffer, readCsvRecords, rowTooLongMessage } from '../cohorts/csv-source.js';
import {
  SheetError,
  tooManyColumns,
  tooManyRows,
  type SheetKind,
  type SheetLimits,
  type SheetRecords,
} from './sheet-records.js';

export {
  SheetError,
  type SheetErrorCode,
  type SheetKind,
  type SheetLimits,
  type SheetRecords,
} from './sheet-records.js';

const KINDS: Record<string, SheetKind> = { '.csv': 'csv', '.xlsx': 'xlsx', '.xls': 'xls' };

/** The kind of sheet a file name says it holds, by its last extension in any case. */
export function sheetKindOf(filename: string): SheetKind | undefined {
  const dot = filename.lastIndexOf('.');
  return dot < 0 ? undefined : KINDS[filename.slice(dot).toLowerCase()];
}

/** The sheet kind of an uploaded file, or 400 unsupported_file_type naming it. */
export function requireSheetKind(filename: string): SheetKind {
  const kind = sheetKindOf(filename);
  if (!kind) throw new SheetError('unsupported_file_type', `'${filename}' is not a .csv, .xlsx or .xls file.`);
  return kind;
}

/**
 * Reads a stored file (a local path) of the given kind into records, the header first.
 * CSV, .xlsx (first sheet) and .xls (first sheet) come out alike: every cell as text, a data row as
 * long as its last non-empty cell, blank rows left out. Throws SheetError for files over the limits
 * or unreadable, here or while the batches are taken.
 */
export async function readSheetRecords(path: string, kind: SheetKind, limits: SheetLimits): Promise<SheetRecords> {
  const { size } = await stat(path);
  if (size > limits.maxBytes)
    throw new SheetError('spreadsheet_too_large', `The file is larger than ${limits.maxBytes} bytes.`);
  switch (kind) {
    case 'csv':
      return readCsvSheet(path, limits);
    // The spreadsheet readers (SheetJS alone is ~3 MB of heap) load with the first such file, not at start.
    case 'xlsx':
      return (await import('./xlsx-reader.js')).readXlsxRecords(path, limits);
    case 'xls':
      return (await import('./xls-reader.js')).readXlsRecords(path, limits);
    default:
      throw new SheetError('unsupported_file_type', `Files of kind '${String(kind)}' cannot be read.`);
  }
}

/**
 * A row that did not end within ROSTER_MAX_ROW_BYTES, as a 400 naming it the way batch rows are
 * numbered (blank rows left out, so `blankRows` read before it are not counted).
 */
function unreadableRow(error: CsvRowTooLongError, blankRows: number): SheetError {
  return new SheetError(
    'invalid_spreadsheet',
    rowTooLongMessage(error.row - blankRows, error.maxRowBytes, error.openQuote),
  );
}

/** A CSV through the cohort reader: one pass to learn the encoding, a second to parse. */
async function readCsvSheet(path: string, limits: SheetLimits): Promise<SheetRecords> {
  const sniffer = new EncodingSniffer();
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  await pipeline(createReadStream(path), sniffer, discard);
  const source = await readCsvRecords(createReadStream(path), sniffer.encoding, {
    maxRowBytes: limits.maxRowBytes,
  }).catch((error: unknown) => {
    throw error instanceof CsvRowTooLongError ? unreadableRow(error, 0) : error;
  });
  if (source.header && source.header.length > limits.maxColumns) {
    source.close();
    throw tooManyColumns(limits);
  }
  const batches = async function* (): AsyncGenerator<string[][]> {
    let count = 0;
    let blank = 0;
    try {
      for await (const batch of source.batches) {
        // A line of bare delimiters is as blank as an empty spreadsheet row.
        const rows = batch.filter((row) => row.some((cell) => cell !== ''));
        blank += batch.length - rows.length;
        count += rows.length;
        if (count > limits.maxRows) throw tooManyRows(limits);
        if (rows.some((row) => row.length > limits.maxColumns)) throw tooManyColumns(limits);
        if (rows.length > 0) yield rows;
      }
    } catch (error) {
      throw error instanceof CsvRowTooLongError ? unreadableRow(error, blank) : error;
    } finally {
      source.close();
    }
  };
  return { header: source.header, batches: batches(), close: () => source.close() };
}
