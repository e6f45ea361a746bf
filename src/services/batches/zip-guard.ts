import { Transform, type Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { SheetError, type SheetLimits } from './sheet-records.js';

/** Entries smaller than this may compress as well as they like (a sheet of blanks does). */
const RATIO_CHECKED_FROM = 1024 * 1024;
/** Real workbook XML deflates by 5–50×; zeros by about 1000×. */
const MAX_RATIO = 200;

/** An .xlsx opened by its central directory, every entry reached by name. */
export interface ZipArchive {
  /** Whether the archive lists the entry. */
  has(name: string): boolean;
  /**
   * The entry's inflated bytes; the stream fails with SheetError as soon as they pass the limits,
   * counted over every entry opened so far. Undefined when the archive has no such entry.
   */
  open(name: string): Promise<Readable | undefined>;
  /** Stops every read and closes the file. */
  close(): void;
}

/**
 * Opens an .xlsx by its central directory (yauzl) and refuses it when the directory lists too many
 * entries, declares too many bytes in all, or an entry compressed beyond any real workbook's ratio;
 * nothing is inflated for this. The sizes are the file's own claims, so open() counts real bytes too.
 */
export async function openZip(path: string, limits: SheetLimits): Promise<ZipArchive> {
  let zip: ZipFile;
  try {
    // Sizes are checked against our limits as bytes come, not against the file's claims.
    zip = await new Promise<ZipFile>((resolve, reject) => {
      yauzl.open(path, { lazyEntries: true, autoClose: false, validateEntrySizes: false }, (error, opened) =>
        error ? reject(error) : resolve(opened),
      );
    });
  } catch (error) {
    throw notAZip(error);
  }
  const reads = new Set<Readable>();
  let closed = false;
  // yauzl closes the file once close() was called and every stream it handed out has ended or been destroyed.
  const close = () => {
    if (closed) return;
    closed = true;
    for (const read of reads) read.destroy();
    reads.clear();
    zip.close();
  };
  let files: Map<string, Entry>;
  try {
    if (zip.entryCount > limits.maxZipEntries) throw tooManyEntries(limits);
    files = await readDirectory(zip, limits);
  } catch (error) {
    close();
    throw error instanceof SheetError ? error : notAZip(error);
  }
  let total = 0;
  return {
    has: (name) => files.has(name),
    async open(name) {
      const file = files.get(name);
      if (!file) return undefined;
      const damaged = (error: unknown) =>
        isSystemError(error)
          ? (error as Error)
          : new SheetError('invalid_spreadsheet', `The .xlsx file is damaged: its part ${name} cannot be unpacked.`);
      let entry: Readable;
      try {
        entry = await zip.openReadStreamPromise(file);
      } catch (error) {
        throw damaged(error);
      }
      let inflated = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          inflated += chunk.length;
          total += chunk.length;
          if (total > limits.maxUncompressedBytes) return done(tooManyBytes(limits));
          if (outOfRatio(inflated, file.compressedSize)) return done(bomb());
          done(null, chunk);
        },
      });
      reads.add(entry);
      entry.on('error', (error: unknown) => counter.destroy(damaged(error)));
      counter.on('close', () => {
        entry.destroy();
        reads.delete(entry);
      });
      return entry.pipe(counter);
    },
    close,
  };
}

/** Every entry of the central directory by name, refused as soon as the declared sizes pass the limits. */
function readDirectory(zip: ZipFile, limits: SheetLimits): Promise<Map<string, Entry>> {
  return new Promise((resolve, reject) => {
    const files = new Map<string, Entry>();
    let total = 0;
    zip.on('error', reject);
    zip.on('end', () => resolve(files));
    zip.on('entry', (entry: Entry) => {
      total += entry.uncompressedSize;
      if (files.size >= limits.maxZipEntries) return reject(tooManyEntries(limits));
      if (total > limits.maxUncompressedBytes) return reject(tooManyBytes(limits));
      if (outOfRatio(entry.uncompressedSize, entry.compressedSize)) return reject(bomb());
      files.set(entry.fileName, entry);
      zip.readEntry();
    });
    zip.readEntry();
  });
}

function outOfRatio(uncompressed: number, compressed: number): boolean {
  return uncompressed > RATIO_CHECKED_FROM && uncompressed > MAX_RATIO * compressed;
}

/** A file yauzl cannot read as a zip; system errors (file gone, too many open files) stay themselves. */
function notAZip(error: unknown): unknown {
  if (isSystemError(error)) return error;
  return new SheetError('invalid_spreadsheet', 'The file is not an Excel .xlsx workbook (it is not a zip archive).');
}

function tooManyEntries(limits: SheetLimits): SheetError {
  return new SheetError('spreadsheet_too_large', `The .xlsx archive has more than ${limits.maxZipEntries} entries.`);
}

function tooManyBytes(limits: SheetLimits): SheetError {
  return new SheetError(
    'spreadsheet_too_large',
    `The .xlsx archive unpacks to more than ${limits.maxUncompressedBytes} bytes.`,
  );
}

function bomb(): SheetError {
  return new SheetError(
    'spreadsheet_too_large',
    `The .xlsx archive holds an entry compressed more than ${MAX_RATIO} times, as zip bombs are.`,
  );
}

/** An operating-system failure (file gone, too many open files): the server's problem, not the upload's. */
export function isSystemError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}
