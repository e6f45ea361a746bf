import { createReadStream } from 'node:fs';
import unzipper from 'unzipper';
import { SheetError, type SheetLimits } from './sheet-records.js';

/** Entries smaller than this may compress as well as they like (a sheet of blanks does). */
const RATIO_CHECKED_FROM = 1024 * 1024;
/** Real workbook XML deflates by 5–50×; zeros by about 1000×. */
const MAX_RATIO = 200;

/**
 * Refuses an .xlsx whose central directory declares too many entries, too many bytes in all, or an
 * entry compressed beyond any real workbook's ratio. Reads only the directory; inflates nothing.
 */
export async function checkZipDirectory(path: string, limits: SheetLimits): Promise<void> {
  let directory;
  try {
    directory = await unzipper.Open.file(path);
  } catch (error) {
    if (isSystemError(error)) throw error;
    throw new SheetError('invalid_spreadsheet', 'The file is not an Excel .xlsx workbook (it is not a zip archive).');
  }
  if (directory.numberOfRecords > limits.maxZipEntries || directory.files.length > limits.maxZipEntries) throw tooManyEntries(limits);
  let total = 0;
  for (const file of directory.files) {
    total += file.uncompressedSize;
    if (total > limits.maxUncompressedBytes) throw tooManyBytes(limits);
    if (outOfRatio(file.uncompressedSize, file.compressedSize)) throw bomb();
  }
}

/**
 * Inflates every entry once, counting bytes and keeping none, and refuses the file as soon as the
 * counts pass the limits. The directory check trusts sizes the file declares, and the streaming
 * reader that follows walks the local headers instead of the directory; this pass uses that same
 * parser, so it sees exactly the entries and bytes the reader will. Inflating is native and cheap
 * next to parsing the XML.
 */
export async function checkZipInflation(path: string, limits: SheetLimits): Promise<void> {
  const input = createReadStream(path);
  const parser = unzipper.Parse();
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      input.destroy();
      parser.destroy();
      reject(isSystemError(error) || error instanceof SheetError ? error : new SheetError('invalid_spreadsheet', 'The .xlsx file is damaged: its zip archive cannot be read.'));
    };
    let entries = 0;
    let total = 0;
    // Done once the parser has read the whole file and every entry has been counted to its end.
    let open = 0;
    let parsed = false;
    const settleIfDone = () => {
      if (settled || !parsed || open > 0) return;
      settled = true;
      resolve();
    };
    parser.on('entry', (entry) => {
      if (++entries > limits.maxZipEntries) return fail(tooManyEntries(limits));
      open++;
      // Zero when the size only follows the data; the total still bounds such an entry.
      const compressed = entry.vars.compressedSize;
      let size = 0;
      entry.on('data', (chunk: Buffer) => {
        size += chunk.length;
        total += chunk.length;
        if (total > limits.maxUncompressedBytes) fail(tooManyBytes(limits));
        else if (compressed > 0 && outOfRatio(size, compressed)) fail(bomb());
      });
      entry.on('end', () => {
        open--;
        settleIfDone();
      });
      entry.on('error', fail);
    });
    parser.on('error', fail);
    parser.on('finish', () => {
      parsed = true;
      settleIfDone();
    });
    input.on('error', fail);
    input.pipe(parser);
  });
}

function outOfRatio(uncompressed: number, compressed: number): boolean {
  return uncompressed > RATIO_CHECKED_FROM && uncompressed > MAX_RATIO * compressed;
}

function tooManyEntries(limits: SheetLimits): SheetError {
  return new SheetError('spreadsheet_too_large', `The .xlsx archive has more than ${limits.maxZipEntries} entries.`);
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
