import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { cellText } from './cell-text.js';
import { recordsFromRows, SheetError, tooManyColumns, type SheetLimits, type SheetRecords } from './sheet-records.js';
import { isSystemError, openZip, type ZipArchive } from './zip-guard.js';

/**
 * The part parsers of exceljs's streaming WorkbookReader (4.4.0), outside its typings. Its own
 * parse() walks the zip in stored order: it copies sheets stored before the shared strings (as
 * Excel stores them) to temporary files, parses every sheet, and leaves files and descriptors
 * behind when reading stops early. Fed from the central directory instead, the parts come in the
 * order they are needed and only the first tab is read, straight from the zip.
 */
interface WorkbookParts {
  _parseRels(entry: Readable): Promise<void>;
  _parseWorkbook(entry: Readable): Promise<void>;
  _parseSharedStrings(entry: Readable): AsyncIterable<unknown>;
  _parseStyles(entry: Readable): Promise<void>;
  _parseWorksheet(iterator: AsyncIterable<unknown>, sheetNo: string): Iterable<{ eventType: string; value: ExcelJS.stream.xlsx.WorksheetReader }>;
  /** Sheets in tab order, from xl/workbook.xml. */
  model?: { sheets?: { rId?: string }[] };
  /** xl/_rels/workbook.xml.rels: which part holds which sheet. */
  workbookRels?: { Id?: string; Target?: string }[];
  properties?: { model?: { date1904?: boolean } };
}

/**
 * Reads the first sheet of an .xlsx with exceljs's streaming parsers, after the zip guards. Rows
 * are parsed as batches are taken, so memory holds the shared strings and about one batch however
 * long the sheet is.
 */
export async function readXlsxRecords(path: string, limits: SheetLimits): Promise<SheetRecords> {
  const zip = await openZip(path, limits);
  let worksheet: ExcelJS.stream.xlsx.WorksheetReader;
  let date1904: boolean;
  try {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, {
      sharedStrings: 'cache',
      hyperlinks: 'ignore',
      styles: 'cache',
      worksheets: 'emit',
      entries: 'ignore',
    }) as unknown as WorkbookParts;
    await reader._parseRels(requiredPart(zip, 'xl/_rels/workbook.xml.rels'));
    await reader._parseWorkbook(requiredPart(zip, 'xl/workbook.xml'));
    const strings = zip.open('xl/sharedStrings.xml');
    if (strings) for await (const _ of reader._parseSharedStrings(strings));
    const styles = zip.open('xl/styles.xml');
    if (styles) await reader._parseStyles(styles);
    const part = firstSheetPart(reader);
    const sheet = part === undefined ? undefined : zip.open(part);
    if (!sheet) throw new SheetError('invalid_spreadsheet', 'The .xlsx file holds no worksheet.');
    const [emitted] = reader._parseWorksheet(sheet, /(\d+)\.xml$/.exec(part ?? '')?.[1] ?? '1');
    if (!emitted) throw new Error('exceljs did not hand over the worksheet');
    worksheet = emitted.value;
    date1904 = reader.properties?.model?.date1904 === true;
  } catch (error) {
    zip.close();
    throw asSheetError(error);
  }
  const rows = (async function* () {
    try {
      for await (const row of worksheet) {
        const cells = rowCells(row, date1904, limits);
        if (cells.length > 0) yield cells;
      }
    } catch (error) {
      throw asSheetError(error);
    }
  })();
  return recordsFromRows(rows, limits, () => zip.close());
}

function requiredPart(zip: ZipArchive, name: string): Readable {
  const part = zip.open(name);
  if (!part) throw new SheetError('invalid_spreadsheet', `The .xlsx file is not a workbook: it lacks ${name}.`);
  return part;
}

/** The zip path of the first tab's part, from the workbook and its relationships. */
function firstSheetPart(reader: WorkbookParts): string | undefined {
  const first = reader.model?.sheets?.[0];
  const target = reader.workbookRels?.find((rel) => rel.Id !== undefined && rel.Id === first?.rId)?.Target;
  if (target === undefined) return undefined;
  // Targets are relative to xl/, the workbook's folder, or absolute within the package.
  return target.startsWith('/') ? target.slice(1) : posix.normalize(`xl/${target}`);
}

/** A row's cells as text, up to its last non-empty cell, blanks between them as ''. */
function rowCells(row: ExcelJS.Row, date1904: boolean, limits: SheetLimits): string[] {
  const cells: string[] = [];
  row.eachCell((cell, column) => {
    // Left unresolved when there were no shared strings to look it up in; never pass it off as ''.
    if (cell.type === ExcelJS.ValueType.SharedString) throw new SheetError('invalid_spreadsheet', 'The .xlsx file refers to shared strings it does not hold.');
    // cell.value drops a formula's result when it is 0 or FALSE; cell.result keeps it. exceljs
    // reads every non-text cached result as a number, so a formula giving TRUE reads '1' and one
    // giving an error reads '' (plain boolean and error cells are fine).
    const value = cell.type === ExcelJS.ValueType.Formula ? { result: cell.result } : cell.value;
    const text = cellText(value, cell.numFmt, date1904);
    if (text === '') return;
    if (column > limits.maxColumns) throw tooManyColumns(limits);
    while (cells.length < column - 1) cells.push('');
    cells.push(text);
  });
  return cells;
}

/** Parse failures are the file's fault (400); limits keep their own code; system errors stay 500s. */
function asSheetError(error: unknown): unknown {
  if (error instanceof SheetError || isSystemError(error)) return error;
  return new SheetError('invalid_spreadsheet', 'The .xlsx file is damaged: its sheet cannot be read.');
}
