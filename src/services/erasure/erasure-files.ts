// Rewriting a stored cohort file without the rows of erased numbers (#17). A row goes when any of
// its cells is one of the numbers as ingest reads a phone cell (normalisePhone with the cohort's
// country), so the number is found in the phone column, in any other column and, in a rejection
// file, behind the `'` that made the cell safe for spreadsheets. Files are streamed both ways.
import { PassThrough, pipeline, type Readable, type Transform } from 'node:stream';
import iconv from 'iconv-lite';
import { parsePhoneNumberWithError } from 'libphonenumber-js/max';
import Papa from 'papaparse';
import { safeCsvLine } from '../../domain/ingest/csv-cells.js';
import { normalisePhone } from '../../domain/ingest/phone.js';
import { BlobNotFoundError, type BlobStore } from '../../storage/blobs/blob-store.js';
import { BlockingCohortError } from '../cohorts/cohort-deps.js';
import { type FileEncoding, readCsvRecords } from '../cohorts/csv-source.js';

/** Answers whether a cell holds one of the numbers. */
export type NumberMatcher = (cell: string) => boolean;

// A cell of printable ASCII can only be one of the numbers when its digits hold that number's
// national digits (an extension or words may follow them, which libphonenumber reads past): the
// cheap test that spares libphonenumber almost every cell.
const NON_DIGIT = /\D/g;
const BEYOND_PRINTABLE_ASCII = /[^ -~\t\r\n]/;

export function numberMatcher(phones: readonly string[], country: string | undefined): NumberMatcher {
  const wanted = new Set(phones);
  const national = [
    ...new Set(
      phones.map((phone) => {
        try {
          return parsePhoneNumberWithError(phone).nationalNumber as string;
        } catch {
          return phone.replace(NON_DIGIT, '');
        }
      }),
    ),
  ];
  const shortest = Math.min(...national.map((digits) => digits.length));
  const isOne = (text: string) => {
    const read = normalisePhone(text, country);
    return read.ok && wanted.has(read.e164);
  };
  return (cell) => {
    if (cell.length < shortest) return false;
    if (!BEYOND_PRINTABLE_ASCII.test(cell)) {
      const digits = cell.replace(NON_DIGIT, '');
      if (!national.some((n) => digits.includes(n))) return false;
    }
    // A rejection file writes `'+1…` for `+1…`: both are read.
    return isOne(cell) || (cell.startsWith("'") && isOne(cell.slice(1)));
  };
}

export type StoredCsvKind = 'source' | 'rejected';

export interface StoredCsv {
  key: string;
  encoding: FileEncoding;
  kind: StoredCsvKind;
}

export type RewriteOutcome =
  /** The file holds none of the numbers: nothing was written. */
  | { kind: 'clean' }
  /** The file is gone already (its cohort deleted meanwhile). */
  | { kind: 'missing' }
  /** The file cannot be read to its end (a record over the bound): it cannot be shown free of the numbers. */
  | { kind: 'unreadable'; reason: string }
  | { kind: 'rewritten'; key: string; removed: number; bytes: number };

/**
 * Counts the rows of `file` that hold one of the numbers; when there are any, writes the file again
 * to `toKey` without them, in its own encoding. The original's kept rows are written back as CSV
 * (RFC 4180 quoting, CRLF, the delimiter it had); a rejection file stays spreadsheet-safe, UTF-8
 * with a byte-order mark. Blank lines are not kept (they are not records anywhere in Roster).
 */
export async function rewriteWithout(
  blobs: BlobStore,
  file: StoredCsv,
  toKey: string,
  matches: NumberMatcher,
  maxRowBytes: number,
  signal: AbortSignal,
): Promise<RewriteOutcome> {
  const rowMatches = (fields: readonly string[]) => fields.some(matches);
  let found = 0;
  const scanned = await readAll(blobs, file, maxRowBytes, signal, (rows) => {
    for (const row of rows) if (rowMatches(row)) found++;
  });
  if (scanned.kind !== 'read') return scanned;
  if (found === 0) return { kind: 'clean' };

  const out = new PassThrough();
  let source: Readable = out;
  if (file.encoding !== 'utf-8') {
    // The encoder takes text: the pass-through hands it on as strings. UTF-8 needs no encoder.
    out.setEncoding('utf8');
    const encoder = iconv.encodeStream(file.encoding, {
      addBOM: file.encoding.startsWith('utf-16'),
    }) as unknown as Transform;
    // pipeline() passes a destroyed writer's error on, so the put aborts and leaves nothing behind.
    source = pipeline(out, encoder, () => undefined) as unknown as Readable;
  }
  const stored = blobs.put(toKey, source);
  stored.catch(() => undefined);
  // One piece of text a parsed batch: the rows kept, as CSV lines ending in CRLF.
  const lines =
    file.kind === 'rejected'
      ? (rows: string[][]) => rows.map((cells) => `${safeCsvLine(cells)}\r\n`).join('')
      : (rows: string[][], delimiter: string) =>
          rows.length === 0 ? '' : `${Papa.unparse(rows, { header: false, delimiter, newline: '\r\n' })}\r\n`;
  const write = async (text: string) => {
    if (text !== '' && !out.write(text)) await new Promise((resolve) => out.once('drain', resolve));
  };
  let removed = 0;
  try {
    if (file.kind === 'rejected') await write('\ufeff');
    const again = await readAll(blobs, file, maxRowBytes, signal, async (rows, delimiter, header) => {
      if (header !== undefined) await write(lines([header], delimiter));
      const kept = rows.filter((row) => !rowMatches(row));
      removed += rows.length - kept.length;
      await write(lines(kept, delimiter));
    });
    if (again.kind !== 'read') {
      out.destroy();
      return again;
    }
    out.end();
    const { bytes } = await stored;
    return { kind: 'rewritten', key: toKey, removed, bytes };
  } catch (error) {
    out.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

/** Reads every record of a stored CSV, handing on the header first (with the first batch), then batches of data. */
async function readAll(
  blobs: BlobStore,
  file: StoredCsv,
  maxRowBytes: number,
  signal: AbortSignal,
  onRows: (rows: string[][], delimiter: string, header: string[] | undefined) => void | Promise<void>,
): Promise<{ kind: 'read' } | { kind: 'missing' } | { kind: 'unreadable'; reason: string }> {
  let bytes: Awaited<ReturnType<BlobStore['get']>>;
  try {
    bytes = await blobs.get(file.key);
  } catch (error) {
    if (error instanceof BlobNotFoundError) return { kind: 'missing' };
    throw error;
  }
  let source: Awaited<ReturnType<typeof readCsvRecords>>;
  try {
    source = await readCsvRecords(bytes, file.encoding, { maxRowBytes });
  } catch (error) {
    if (error instanceof BlockingCohortError) return { kind: 'unreadable', reason: error.message };
    throw error;
  }
  try {
    let header = source.header;
    if (header === undefined) return { kind: 'read' };
    await onRows([], source.delimiter, header);
    header = undefined;
    for await (const rows of source.batches) {
      signal.throwIfAborted();
      await onRows(rows, source.delimiter, undefined);
    }
    return { kind: 'read' };
  } catch (error) {
    if (error instanceof BlockingCohortError) return { kind: 'unreadable', reason: error.message };
    throw error;
  } finally {
    source.close();
  }
}
