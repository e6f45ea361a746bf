import type { Readable } from 'node:stream';
import { cellText } from './cell-text.js';
import { recordsFromRows, SheetError, tooManyColumns, type SheetLimits, type SheetRecords } from './sheet-records.js';
import {
  feedXml,
  isTrue,
  localName,
  readCellFormats,
  readPartPaths,
  readSharedStrings,
  readWorkbook,
  RunText,
  xmlParser,
} from './xlsx-parts.js';
import { isSystemError, openZip, type ZipArchive } from './zip-guard.js';

/** What a sheet's cells need from the rest of the workbook. */
interface SheetContext {
  /** Undefined when the workbook has no shared-strings part. */
  strings: string[] | undefined;
  /** Number format by cell style index. */
  formats: (string | undefined)[];
  date1904: boolean;
  limits: SheetLimits;
}

/**
 * Reads the first tab of an .xlsx, after the zip guards. Parts are taken from the central
 * directory in the order they are needed (nothing is copied to disk), and the sheet is parsed as
 * batches are taken, so memory holds the shared strings and about one batch however long it is.
 */
export async function readXlsxRecords(path: string, limits: SheetLimits): Promise<SheetRecords> {
  const zip = await openZip(path, limits);
  let sheet: Readable;
  let context: SheetContext;
  try {
    const paths = await readPartPaths(await requiredPart(zip, 'xl/_rels/workbook.xml.rels'));
    const workbook = await readWorkbook(await requiredPart(zip, 'xl/workbook.xml'));
    const strings = await zip.open('xl/sharedStrings.xml');
    context = {
      strings: strings && (await readSharedStrings(strings)),
      formats: [],
      date1904: workbook.date1904,
      limits,
    };
    const styles = await zip.open('xl/styles.xml');
    if (styles) context.formats = await readCellFormats(styles);
    const part = workbook.firstSheetId === undefined ? undefined : paths.get(workbook.firstSheetId);
    const opened = part === undefined ? undefined : await zip.open(part);
    if (!opened) throw new SheetError('invalid_spreadsheet', 'The .xlsx file holds no worksheet.');
    sheet = opened;
  } catch (error) {
    zip.close();
    throw asSheetError(error);
  }
  return recordsFromRows(sheetRows(sheet, context), limits, () => zip.close());
}

async function requiredPart(zip: ZipArchive, name: string): Promise<Readable> {
  const part = await zip.open(name);
  if (!part) throw new SheetError('invalid_spreadsheet', `The .xlsx file is not a workbook: it lacks ${name}.`);
  return part;
}

/** A cell as its XML gives it: `<c r t s>` with a `<v>` value, a `<f>` formula or an inline `<is>` string. */
interface CellXml {
  column: number;
  type: string | undefined;
  style: number;
  value: string | undefined;
  inValue: boolean;
}

/** The sheet's non-blank rows as text, up to each row's last non-empty cell, blanks between them as ''. */
async function* sheetRows(sheet: Readable, context: SheetContext): AsyncGenerator<string[]> {
  const ready: string[][] = [];
  let row: Map<number, string> | undefined;
  let cell: CellXml | undefined;
  let lastColumn = 0;
  const inline = new RunText();
  const parser = xmlParser();
  parser.on('opentag', (tag) => {
    const name = localName(tag);
    if (name === 'row') {
      row = new Map();
      lastColumn = 0;
    } else if (name === 'c' && row) {
      // r may be left out: the cell then follows the one before it.
      const column = tag.attributes.r === undefined ? lastColumn + 1 : columnOf(tag.attributes.r);
      cell = { column, type: tag.attributes.t, style: Number(tag.attributes.s ?? 0), value: undefined, inValue: false };
    } else if (cell && name === 'v') {
      cell.value = '';
      cell.inValue = true;
    } else if (cell && name === 'is') {
      inline.start();
    } else if (cell) {
      inline.open(tag);
    }
  });
  const text = (chars: string) => {
    if (cell?.inValue) cell.value += chars;
    else if (cell?.type === 'inlineStr') inline.add(chars);
  };
  parser.on('text', text);
  parser.on('cdata', text);
  parser.on('closetag', (tag) => {
    const name = localName(tag);
    if (cell && name === 'v') cell.inValue = false;
    else if (cell && name === 'is') cell.value = inline.take();
    else if (row && cell && name === 'c') {
      const value = cellValue(cell, context);
      if (value !== '') {
        if (cell.column > context.limits.maxColumns) throw tooManyColumns(context.limits);
        row.set(cell.column, value);
      }
      lastColumn = cell.column;
      cell = undefined;
    } else if (cell) inline.close(tag);
    else if (row && name === 'row') {
      if (row.size > 0) ready.push(rowCells(row));
      row = undefined;
    }
  });
  try {
    for await (const _ of feedXml(sheet, parser)) yield* ready.splice(0);
    yield* ready.splice(0);
  } catch (error) {
    throw asSheetError(error);
  }
}

/** A cell's text by the rules of cell-text.ts, from its type (`t`), style and value. */
function cellValue(cell: CellXml, context: SheetContext): string {
  const { value } = cell;
  if (value === undefined) return '';
  const format = context.formats[cell.style];
  switch (cell.type) {
    case 's': {
      // Never pass an unresolved reference off as ''.
      if (!context.strings)
        throw new SheetError('invalid_spreadsheet', 'The .xlsx file refers to shared strings it does not hold.');
      return context.strings[Number(value)] ?? '';
    }
    case 'str':
    case 'inlineStr':
      return value;
    case 'b':
      return cellText(isTrue(value), format, context.date1904);
    case 'e':
      return value;
    case 'd': {
      // ISO 8601 (strict SpreadsheetML); without a zone it is the wall-clock time the sheet shows.
      const date = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(value) || !value.includes('T') ? value : `${value}Z`);
      return cellText(date, format, context.date1904);
    }
    default:
      return value.trim() === '' ? '' : cellText(Number(value), format, context.date1904);
  }
}

/** The cells of a row by column (1-based), '' for the columns between. */
function rowCells(row: Map<number, string>): string[] {
  const cells: string[] = new Array<string>(Math.max(...row.keys())).fill('');
  for (const [column, value] of row) cells[column - 1] = value;
  return cells;
}

/** The column of an A1-style reference (`C7` → 3); one past any real column when it is absurdly long. */
function columnOf(reference: string): number {
  const letters = /^([A-Za-z]+)\d*$/.exec(reference)?.[1];
  if (letters === undefined)
    throw new SheetError('invalid_spreadsheet', 'The .xlsx file is damaged: its sheet cannot be read.');
  if (letters.length > 4) return Number.MAX_SAFE_INTEGER;
  let column = 0;
  for (const letter of letters.toUpperCase()) column = column * 26 + (letter.charCodeAt(0) - 64);
  return column;
}

/** Parse failures are the file's fault (400); limits keep their own code; system errors stay 500s. */
function asSheetError(error: unknown): unknown {
  if (error instanceof SheetError || isSystemError(error)) return error;
  return new SheetError('invalid_spreadsheet', 'The .xlsx file is damaged: its sheet cannot be read.');
}
