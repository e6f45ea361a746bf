import { Readable, Transform, type Duplex, type TransformCallback } from 'node:stream';
import iconv from 'iconv-lite';
import Papa from 'papaparse';
import { detectDelimiter } from '../../domain/ingest/csv-cells.js';
import { BlockingCohortError } from './cohort-deps.js';

export type FileEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/**
 * Passes bytes through unchanged while working out their encoding: a UTF-8 or UTF-16 byte-order
 * mark decides at once; otherwise the bytes are UTF-8 if they all decode, else Windows-1252.
 */
export class EncodingSniffer extends Transform {
  private head: Buffer | undefined = Buffer.alloc(0);
  private bom: FileEncoding | undefined;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });
  private validUtf8 = true;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.head !== undefined) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < 3) {
        done();
        return;
      }
      this.bom = bomOf(this.head);
      const pending = this.head;
      this.head = undefined;
      this.check(pending);
      done(null, pending);
      return;
    }
    this.check(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.head !== undefined) {
      this.bom = bomOf(this.head);
      this.check(this.head);
      this.push(this.head);
      this.head = undefined;
    }
    if (this.bom === undefined && this.validUtf8) {
      try {
        this.utf8.decode();
      } catch {
        this.validUtf8 = false;
      }
    }
    done();
  }

  private check(chunk: Buffer): void {
    if (this.bom !== undefined || !this.validUtf8) return;
    try {
      this.utf8.decode(chunk, { stream: true });
    } catch {
      this.validUtf8 = false;
    }
  }

  /** The encoding, once the stream has ended. */
  get encoding(): FileEncoding {
    return this.bom ?? (this.validUtf8 ? 'utf-8' : 'windows-1252');
  }
}

function bomOf(head: Buffer): FileEncoding | undefined {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  return undefined;
}

export interface CsvLimits {
  /**
   * The longest record, in bytes of its UTF-8 text. Reading stops with 'invalid_csv' as soon as an
   * unfinished record is longer: papaparse keeps an unfinished record whole and parses it again with
   * every chunk, so without this bound an unclosed quote or a line of millions of commas would
   * exhaust memory.
   */
  maxRowBytes: number;
}

/** ROSTER_MAX_ROW_BYTES's default, for callers without config. */
export const DEFAULT_CSV_LIMITS: CsvLimits = Object.freeze({ maxRowBytes: 1024 * 1024 });

// Text is handed to papaparse in pieces of at most this many characters (and at most a third of
// the bound, so every record that starts and ends within one piece is within the bound).
const PIECE_CHARS = 64 * 1024;

/** A record that did not end within the bound: `row` counts records as the rest of Roster does (header = 1, blank lines left out). */
export class CsvRowTooLongError extends BlockingCohortError {
  constructor(
    readonly row: number,
    readonly maxRowBytes: number,
    /** Whether the unfinished record has a quote open, the usual cause. */
    readonly openQuote: boolean,
  ) {
    super('invalid_csv', rowTooLongMessage(row, maxRowBytes, openQuote), {
      row,
      max_row_bytes: maxRowBytes,
      open_quote: openQuote,
    });
  }
}

/** What a person reads about a record that did not end within ROSTER_MAX_ROW_BYTES. */
export function rowTooLongMessage(row: number, maxRowBytes: number, openQuote: boolean): string {
  const cause = openQuote
    ? `it opens a quoted field that is still not closed after ${maxRowBytes} bytes, so most likely a quote is missing (a quote inside a quoted field must be doubled: "")`
    : `it runs on for more than ${maxRowBytes} bytes without a line break (too many delimiters, or lines not ending)`;
  return `Row ${row} cannot be read: ${cause}. Fix row ${row}; if rows really are this long, raise ROSTER_MAX_ROW_BYTES.`;
}

export interface CsvRecords {
  delimiter: string;
  /** The header row; undefined when the file has no record at all. */
  header: string[] | undefined;
  /**
   * Data records in file order, one parsed chunk at a time. Reading is paused while a batch waits to
   * be taken, so memory holds about one chunk (and at most one unfinished record) however large the
   * file is. Throws CsvRowTooLongError after the records before a record over the bound.
   */
  batches: AsyncIterable<string[][]>;
  /**
   * Bytes of the file read so far, for progress: reading runs ahead of the records handed out by
   * what the decoder and parser hold (about a megabyte at most).
   */
  readonly bytesRead: number;
  /** Stops reading and releases the file. */
  close(): void;
}

/**
 * The text handed to papaparse past its cursor (the end of the last complete record): the unfinished
 * record it keeps and parses again with the next chunk. Holds only the chunks that text spans.
 */
class UnfinishedRecord {
  private fed = 0;
  private readonly chunks: string[] = [];
  /** Where chunks[0] starts in the whole text. */
  private start = 0;

  add(chunk: string): void {
    this.fed += chunk.length;
    this.chunks.push(chunk);
  }

  /** Forgets what the parser has consumed up to `cursor`; answers whether the rest is over `maxBytes` as UTF-8. */
  exceeds(cursor: number, maxBytes: number): boolean {
    while (this.chunks.length > 0 && this.start + this.chunks[0]!.length <= cursor)
      this.start += this.chunks.shift()!.length;
    // A CR read without its LF yet is the record's line break, not part of it.
    const lineBreak = this.chunks.at(-1)?.endsWith('\r') ? 1 : 0;
    const units = this.fed - cursor - lineBreak;
    // A UTF-16 unit is 1 to 3 bytes of UTF-8: bytes are counted only where the answer depends on them.
    if (units * 3 <= maxBytes) return false;
    if (units > maxBytes) return true;
    return Buffer.byteLength(this.text(cursor)) - lineBreak > maxBytes;
  }

  /** Whether the unfinished record has a quote open: an odd number of quote characters. */
  opensQuote(cursor: number): boolean {
    return (this.text(cursor).split('"').length - 1) % 2 === 1;
  }

  private text(cursor: number): string {
    return this.chunks.join('').slice(cursor - this.start);
  }
}

function* pieces(text: string, size: number): Generator<string> {
  if (text.length <= size) yield text;
  else for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

/** A parsed record's size in UTF-8: its fields and delimiters (quotes around fields are not counted). */
function recordBytes(fields: readonly string[], delimiter: string): number {
  let bytes = (fields.length - 1) * delimiter.length;
  for (const field of fields) bytes += Buffer.byteLength(field);
  return bytes;
}

/**
 * Decodes a stored CSV (dropping any byte-order mark), detects the delimiter from the header line,
 * and parses it with papaparse in chunk mode (its fast path; its Node duplex stream costs a
 * promise and an object per row). Blank lines are not records. A record longer than
 * `limits.maxRowBytes` stops the read with CsvRowTooLongError (a BlockingCohortError, 'invalid_csv'),
 * thrown here when it is the header, else from `batches`.
 */
export async function readCsvRecords(
  bytes: Readable,
  encoding: FileEncoding,
  limits: CsvLimits = DEFAULT_CSV_LIMITS,
): Promise<CsvRecords> {
  const text = bytes.pipe(iconv.decodeStream(encoding, { stripBOM: true })) as unknown as Duplex;
  // pipe() does not pass errors on: a read that fails (object storage gone mid-file) must fail the
  // decoder too, or the parser waits forever for the rest of the file.
  bytes.once('error', (error) => text.destroy(error));
  let bytesRead = 0;
  bytes.on('data', (chunk: Buffer) => {
    bytesRead += chunk.length;
  });
  const iterator = text[Symbol.asyncIterator]() as AsyncIterator<string>;
  let head = '';
  let ended = false;
  // Up to the first line break, for the delimiter; a first line longer than the bound is left for
  // the parser below to report.
  while (head.length <= limits.maxRowBytes) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    head += next.value;
    // papaparse guesses the line break from this text: a CR at its very end may be half a CRLF.
    if (/\r|\n/.test(next.value) && !head.endsWith('\r')) break;
  }
  const delimiter = detectDelimiter(head.split(/\r\n|\r|\n/, 1)[0] ?? '');
  const pieceChars = Math.min(PIECE_CHARS, Math.floor(limits.maxRowBytes / 3));
  const rest = async function* () {
    yield head;
    head = '';
    while (!ended) {
      const next = await iterator.next();
      if (next.done) return;
      yield* pieces(next.value, pieceChars);
    }
  };
  const input = Readable.from(rest(), { objectMode: true });
  const unfinished = new UnfinishedRecord();
  // Registered before papaparse's own listener, so it has counted a chunk when papaparse parses it.
  input.on('data', (chunk: string) => unfinished.add(chunk));

  const queue: string[][][] = [];
  let records = 0;
  let lastCursor = 0;
  let finished = false;
  let failure: Error | undefined;
  let handle: Papa.Parser | undefined;
  let paused = false;
  let wake: (() => void) | undefined;
  const signal = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const close = () => {
    handle?.abort();
    input.destroy();
    text.destroy();
    bytes.destroy();
  };
  Papa.parse<string[]>(input as unknown as File, {
    delimiter,
    header: false,
    skipEmptyLines: true,
    chunk: (results, parser) => {
      handle = parser;
      // The input itself is paused: papaparse's own pause() leaves the stream flowing into its queue.
      paused = true;
      input.pause();
      const cursor = results.meta.cursor;
      // A record read within one piece is within the bound (a piece is at most a third of it): only
      // a longer stretch (the first text, or a piece that ends a long record) needs counting.
      const over =
        (cursor - lastCursor) * 3 > limits.maxRowBytes
          ? results.data.findIndex((record) => recordBytes(record, delimiter) > limits.maxRowBytes)
          : -1;
      const complete = over < 0 ? results.data : results.data.slice(0, over);
      records += complete.length;
      if (complete.length > 0) queue.push(complete);
      if (over >= 0) failure = new CsvRowTooLongError(records + 1, limits.maxRowBytes, false);
      else if (unfinished.exceeds(cursor, limits.maxRowBytes))
        failure = new CsvRowTooLongError(records + 1, limits.maxRowBytes, unfinished.opensQuote(cursor));
      lastCursor = cursor;
      if (failure) close();
      signal();
    },
    complete: () => {
      finished = true;
      signal();
    },
    error: (error: Error) => {
      failure = error;
      signal();
    },
  });

  async function* allBatches(): AsyncGenerator<string[][]> {
    for (;;) {
      const batch = queue.shift();
      if (batch !== undefined) {
        yield batch;
        continue;
      }
      if (failure) throw failure;
      if (finished) return;
      const waiting = new Promise<void>((resolve) => (wake = resolve));
      if (paused) {
        paused = false;
        input.resume();
      }
      await waiting;
    }
  }
  const batches = allBatches();
  // The header is the first record; the rest of its batch is the first batch of data.
  let first: IteratorResult<string[][]>;
  try {
    first = await batches.next();
    while (!first.done && first.value.length === 0) first = await batches.next();
  } catch (error) {
    close();
    throw error;
  }
  const header = first.done ? undefined : first.value[0];
  const firstData = first.done ? [] : first.value.slice(1);
  return {
    delimiter,
    header,
    batches: (async function* () {
      if (firstData.length > 0) yield firstData;
      yield* batches;
    })(),
    get bytesRead() {
      return bytesRead;
    },
    close,
  };
}
