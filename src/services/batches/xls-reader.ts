import { open, readFile } from 'node:fs/promises';
// SheetJS 0.20.3 as republished on npm by @e965: the `xlsx` package on npm stopped at 0.18.5,
// which has CVE-2023-30533 (prototype pollution) and CVE-2024-22363 (ReDoS); SheetJS now ships
// fixed builds only from its own CDN. Pinned exactly in package.json.
import * as XLSX from '@e965/xlsx';
import { cellText, dateText } from './cell-text.js';
import {
  recordsFromRows,
  SheetError,
  tooManyColumns,
  tooManyRows,
  type SheetLimits,
  type SheetRecords,
} from './sheet-records.js';

/** Every .xls since Excel 97 is an OLE compound file, which opens with these bytes. */
const COMPOUND_FILE_SIGNATURE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/**
 * Rows parsed beyond the header and maxRows data rows, so that blank rows (before the header,
 * between contacts, or formatted but empty at the end) do not make a sheet within the limit look
 * too long. A sheet that runs on past them is refused without parsing the rest.
 */
const BLANK_ROW_SLACK = 1000;

/**
 * Reads the first sheet of an .xls. SheetJS parses a whole file at once, so the file's size is
 * bounded first and rows beyond the limit are not parsed at all.
 */
export async function readXlsRecords(path: string, limits: SheetLimits): Promise<SheetRecords> {
  await checkCompoundFile(path);
  const bytes = await readFile(path);
  let workbook: XLSX.WorkBook;
  // SheetJS writes a line to stderr for every record of a damaged file it does not know, which a
  // crafted upload could repeat millions of times. read() is synchronous, so nothing else logs meanwhile.
  const log = console.error;
  console.error = () => undefined;
  try {
    workbook = XLSX.read(bytes, {
      type: 'buffer',
      dense: true,
      cellNF: true,
      cellDates: false,
      cellHTML: false,
      sheets: 0,
      sheetRows: limits.maxRows + 1 + BLANK_ROW_SLACK,
    });
  } catch {
    throw new SheetError('invalid_spreadsheet', 'The .xls file is damaged: it cannot be read as an Excel workbook.');
  } finally {
    console.error = log;
  }
  const name = workbook.SheetNames[0];
  const sheet = name === undefined ? undefined : workbook.Sheets[name];
  if (!sheet) throw new SheetError('invalid_spreadsheet', 'The .xls file holds no worksheet.');
  // Cut short by sheetRows: more rows follow than the limit and the slack together.
  if (spanOf(sheet['!fullref']) > spanOf(sheet['!ref'])) throw tooManyRows(limits);
  const date1904 = workbook.Workbook?.WBProps?.date1904 === true;
  const data = (sheet['!data'] ?? []) as (XLSX.CellObject[] | undefined)[];
  const rows = (async function* () {
    for (const row of data) {
      const cells = rowCells(row ?? [], date1904, limits);
      if (cells.length > 0) yield cells;
    }
  })();
  return recordsFromRows(rows, limits, () => undefined);
}

/** SheetJS reads CSV, HTML and zips too whatever the name says; an .xls must be what it claims. */
async function checkCompoundFile(path: string): Promise<void> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(COMPOUND_FILE_SIGNATURE.length);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    if (bytesRead < head.length || !head.equals(COMPOUND_FILE_SIGNATURE)) {
      throw new SheetError('invalid_spreadsheet', 'The file is not an Excel 97–2003 .xls workbook.');
    }
  } finally {
    await file.close();
  }
}

/** Rows an A1-style range spans; 0 for none. */
function spanOf(range: string | undefined): number {
  if (!range) return 0;
  const { s, e } = XLSX.utils.decode_range(range);
  return e.r - s.r + 1;
}

function rowCells(row: (XLSX.CellObject | undefined)[], date1904: boolean, limits: SheetLimits): string[] {
  const cells: string[] = [];
  row.forEach((cell, index) => {
    const text = cell === undefined ? '' : xlsCellText(cell, date1904);
    if (text === '') return;
    if (index >= limits.maxColumns) throw tooManyColumns(limits);
    while (cells.length < index) cells.push('');
    cells.push(text);
  });
  return cells;
}

/** A SheetJS cell by the rules of cell-text.ts, so an .xls reads as the same sheet saved as .xlsx would. */
export function xlsCellText(cell: XLSX.CellObject, date1904: boolean): string {
  switch (cell.t) {
    case 'n':
      return typeof cell.v === 'number'
        ? cellText(cell.v, typeof cell.z === 'string' ? cell.z : undefined, date1904)
        : '';
    case 'd':
      return cell.v instanceof Date ? dateText(cell.v, date1904) : '';
    case 'e':
      return cell.w ?? '';
    default:
      return cellText(cell.v, undefined, date1904);
  }
}
