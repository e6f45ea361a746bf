import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { cellText } from './cell-text.js';
import { recordsFromRows, SheetError, tooManyColumns, type SheetLimits, type SheetRecords } from './sheet-records.js';
import { checkZipDirectory, checkZipInflation, isSystemError } from './zip-guard.js';

/** What exceljs's stream reader learns about the workbook as it goes; not part of its typings. */
interface WorkbookReaderState {
  on(event: 'entry', listener: (entry: { type: string; id?: string }) => void): unknown;
  /** The file being read, once reading has started. */
  stream?: Readable;
  /** Sheets in tab order, from xl/workbook.xml. */
  model?: { sheets?: { rId?: string }[] };
  /** xl/_rels/workbook.xml.rels: which part holds which sheet. */
  workbookRels?: { Id?: string; Target?: string }[];
  properties?: { model?: { date1904?: boolean } };
}

/**
 * Reads the first sheet of an .xlsx, after the zip guards, with exceljs's streaming reader: rows
 * are parsed as batches are taken, so memory holds about one batch however long the sheet is.
 */
export async function readXlsxRecords(path: string, limits: SheetLimits): Promise<SheetRecords> {
  await checkZipDirectory(path, limits);
  await checkZipInflation(path, limits);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, {
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'cache',
    worksheets: 'emit',
    entries: 'emit',
  });
  const state = reader as unknown as WorkbookReaderState;
  const rows = firstSheetRows(reader, state, limits);
  return recordsFromRows(rows, limits, () => {
    rows.return(undefined).catch(() => undefined);
    state.stream?.destroy();
  });
}

async function* firstSheetRows(reader: ExcelJS.stream.xlsx.WorkbookReader, state: WorkbookReaderState, limits: SheetLimits): AsyncGenerator<string[]> {
  // The reader announces each worksheet part's number just before handing the sheet over.
  let part: string | undefined;
  state.on('entry', (entry) => {
    if (entry.type === 'worksheet') part = entry.id;
  });
  let read = false;
  try {
    for await (const worksheet of reader) {
      const wanted = firstSheetPart(state);
      if (read || (wanted !== undefined && part !== wanted)) {
        skip(worksheet);
        continue;
      }
      read = true;
      const date1904 = state.properties?.model?.date1904 === true;
      for await (const row of worksheet) {
        const cells = rowCells(row, date1904, limits);
        if (cells.length > 0) yield cells;
      }
      // Carry on through the other sheets so the reader removes the temporary files it made.
    }
  } catch (error) {
    if (error instanceof SheetError || isSystemError(error)) throw error;
    throw new SheetError('invalid_spreadsheet', 'The .xlsx file is damaged: its sheet cannot be read.');
  }
  if (!read) throw new SheetError('invalid_spreadsheet', 'The .xlsx file holds no worksheet.');
}

/** The part number ('1' for xl/worksheets/sheet1.xml) of the first tab, when the workbook says. */
function firstSheetPart(state: WorkbookReaderState): string | undefined {
  const first = state.model?.sheets?.[0];
  const target = state.workbookRels?.find((rel) => rel.Id !== undefined && rel.Id === first?.rId)?.Target;
  return target === undefined ? undefined : /sheet(\d+)\.xml$/.exec(target)?.[1];
}

/**
 * Lets a sheet go unread. A sheet stored before the shared strings was copied to a temporary file,
 * whose stream is closed here; a sheet still in the zip is skipped by the reader itself.
 */
function skip(worksheet: ExcelJS.stream.xlsx.WorksheetReader): void {
  const source = (worksheet as unknown as { iterator?: unknown }).iterator;
  if (source instanceof Readable) source.destroy();
}

/** A row's cells as text, up to its last non-empty cell, blanks between them as ''. */
function rowCells(row: ExcelJS.Row, date1904: boolean, limits: SheetLimits): string[] {
  const cells: string[] = [];
  row.eachCell((cell, column) => {
    // Left unresolved when the shared strings were not read before the sheet; never pass it off as ''.
    if (cell.type === ExcelJS.ValueType.SharedString) throw new SheetError('invalid_spreadsheet', 'The .xlsx file\'s shared strings could not be read.');
    // cell.value drops a formula's result when it is 0 or FALSE; cell.result keeps it.
    const value = cell.type === ExcelJS.ValueType.Formula ? { result: cell.result } : cell.value;
    const text = cellText(value, cell.numFmt, date1904);
    if (text === '') return;
    if (column > limits.maxColumns) throw tooManyColumns(limits);
    while (cells.length < column - 1) cells.push('');
    cells.push(text);
  });
  return cells;
}
