import { Transform, type Duplex, type Readable, type TransformCallback } from 'node:stream';
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
  /** Records in file order, the header first; each is the list of its fields. */
  records: AsyncIterable<string[]>;
  /** Stops reading and releases the file. */
  close(): void;
}

/**
 * Decodes a stored CSV (dropping any byte-order mark), detects the delimiter from the header line,
 * and streams records through papaparse with backpressure. Blank lines are not records.
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
  const firstLine = head.split(/\r\n|\r|\n/, 1)[0] ?? '';
  const delimiter = detectDelimiter(firstLine);
  const parser = Papa.parse(Papa.NODE_STREAM_INPUT, { delimiter, header: false, skipEmptyLines: true }) as unknown as Duplex;
  const feed = async () => {
    try {
      if (!parser.write(head)) await new Promise((resolve) => parser.once('drain', resolve));
      while (!ended) {
        const next = await iterator.next();
        if (next.done) break;
        if (!parser.write(next.value)) await new Promise((resolve) => parser.once('drain', resolve));
      }
      parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  };
  void feed();
  return {
    delimiter,
    records: parser as AsyncIterable<string[]>,
    close: () => {
      bytes.destroy();
      text.destroy();
      parser.destroy();
    },
  };
}
