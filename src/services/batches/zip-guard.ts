import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import unzipper from 'unzipper';
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
  open(name: string): Readable | undefined;
  /** Stops every read and closes the file. */
  close(): void;
}

/**
 * Opens an .xlsx by its central directory and refuses it when the directory lists too many
 * entries, declares too many bytes in all, or an entry compressed beyond any real workbook's ratio;
 * nothing is inflated for this. The sizes are the file's own claims, so open() counts real bytes too.
 */
export async function openZip(path: string, limits: SheetLimits): Promise<ZipArchive> {
  const { size } = await stat(path);
  const reads = new Set<ReadStream>();
  const close = () => {
    for (const read of reads) read.destroy();
    reads.clear();
  };
  // Like unzipper.Open.file, but every read is tracked so close() can end them all.
  const source = {
    stream(offset: number, length?: number): ReadStream {
      const read = createReadStream(path, { start: offset, end: length ? offset + length : undefined });
      reads.add(read);
      read.on('close', () => reads.delete(read));
      return read;
    },
    size: () => Promise.resolve(size),
  };
  let directory;
  try {
    directory = await unzipper.Open.custom(source);
  } catch (error) {
    close();
    if (isSystemError(error)) throw error;
    throw new SheetError('invalid_spreadsheet', 'The file is not an Excel .xlsx workbook (it is not a zip archive).');
  }
  try {
    checkDeclaredSizes(directory, limits);
  } catch (error) {
    close();
    throw error;
  }
  const files = new Map(directory.files.map((file) => [file.path, file]));
  let total = 0;
  return {
    has: (name) => files.has(name),
    open(name) {
      const file = files.get(name);
      if (!file) return undefined;
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
      const entry = file.stream();
      entry.on('error', (error: unknown) => {
        counter.destroy(isSystemError(error) ? (error as Error) : new SheetError('invalid_spreadsheet', `The .xlsx file is damaged: its part ${name} cannot be unpacked.`));
      });
      counter.on('close', () => entry.destroy());
      return entry.pipe(counter);
    },
    close,
  };
}

function checkDeclaredSizes(directory: { numberOfRecords: number; files: { uncompressedSize: number; compressedSize: number }[] }, limits: SheetLimits): void {
  if (directory.numberOfRecords > limits.maxZipEntries || directory.files.length > limits.maxZipEntries) {
    throw new SheetError('spreadsheet_too_large', `The .xlsx archive has more than ${limits.maxZipEntries} entries.`);
  }
  let total = 0;
  for (const file of directory.files) {
    total += file.uncompressedSize;
    if (total > limits.maxUncompressedBytes) throw tooManyBytes(limits);
    if (outOfRatio(file.uncompressedSize, file.compressedSize)) throw bomb();
  }
}

function outOfRatio(uncompressed: number, compressed: number): boolean {
  return uncompressed > RATIO_CHECKED_FROM && uncompressed > MAX_RATIO * compressed;
}

function tooManyBytes(limits: SheetLimits): SheetError {
  return new SheetError('spreadsheet_too_large', `The .xlsx archive unpacks to more than ${limits.maxUncompressedBytes} bytes.`);
}

function bomb(): SheetError {
  return new SheetError('spreadsheet_too_large', `The .xlsx archive holds an entry compressed more than ${MAX_RATIO} times, as zip bombs are.`);
}

/** An operating-system failure (file gone, too many open files): the server's problem, not the upload's. */
export function isSystemError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}
