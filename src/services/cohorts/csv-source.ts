import { Readable, Transform, type Duplex, type TransformCallback } from 'node:stream';
import iconv from 'iconv-lite';
import Papa from 'papaparse';
import { detectDelimiter } from '../../domain/ingest/csv-cells.js';

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
      if (this.head.length < 3) return done();
      this.bom = bomOf(this.head);
      const pending = this.head;
      this.head = undefined;
      this.check(pending);
      return done(null, pending);
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

export interface CsvRecords {
  delimiter: string;
  /** The header row; undefined when the file has no record at all. */
  header: string[] | undefined;
  /**
   * Data records in file order, one parsed chunk at a time. The parser is paused while a batch
   * waits to be taken, so memory holds about one chunk however large the file is.
   */
  batches: AsyncIterable<string[][]>;
  /** Stops reading and releases the file. */
  close(): void;
}

/**
 * Decodes a stored CSV (dropping any byte-order mark), detects the delimiter from the header line,
 * and parses it with papaparse in chunk mode (its fast path; its Node duplex stream costs a
 * promise and an object per row). Blank lines are not records.
 */
export async function readCsvRecords(bytes: Readable, encoding: FileEncoding): Promise<CsvRecords> {
  const text = bytes.pipe(iconv.decodeStream(encoding, { stripBOM: true })) as unknown as Duplex;
  const iterator = text[Symbol.asyncIterator]() as AsyncIterator<string>;
  let head = '';
  let ended = false;
  while (!/\r|\n/.test(head)) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    head += next.value;
  }
  const delimiter = detectDelimiter(head.split(/\r\n|\r|\n/, 1)[0] ?? '');
  const rest = async function* () {
    yield head;
    while (!ended) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  };
  const input = Readable.from(rest(), { objectMode: true });

  const queue: string[][][] = [];
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
  Papa.parse<string[]>(input as unknown as File, {
    delimiter,
    header: false,
    skipEmptyLines: true,
    chunk: (results, parser) => {
      handle = parser;
      if (results.data.length > 0) queue.push(results.data);
      paused = true;
      parser.pause();
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
      // Resume only what this reader paused: papaparse's resume() on a running parser re-feeds input.
      if (paused && handle) {
        paused = false;
        handle.resume();
      }
      await waiting;
    }
  }
  const batches = allBatches();
  // The header is the first record; the rest of its batch is the first batch of data.
  let first = await batches.next();
  while (!first.done && first.value.length === 0) first = await batches.next();
  const header = first.done ? undefined : first.value[0];
  const firstData = first.done ? [] : first.value.slice(1);
  return {
    delimiter,
    header,
    batches: (async function* () {
      if (firstData.length > 0) yield firstData;
      yield* batches;
    })(),
    close: () => {
      handle?.abort();
      input.destroy();
      text.destroy();
      bytes.destroy();
    },
  };
}
