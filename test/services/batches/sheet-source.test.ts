import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as XLSX from '@e965/xlsx';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import JSZip from 'jszip';
import {
  readSheetRecords,
  SheetError,
  sheetKindOf,
  type SheetKind,
  type SheetLimits,
} from '../../../src/services/batches/sheet-source.js';

const LIMITS: SheetLimits = {
  maxBytes: 50 * 1024 * 1024,
  maxRows: 200_000,
  maxColumns: 200,
  maxRowBytes: 1024 * 1024,
  maxZipEntries: 1000,
  maxUncompressedBytes: 500 * 1024 * 1024,
};

const HEADER = ['phoneNumber', 'name', 'joined', 'score', 'doubled', 'active', 'note'];
/** What every format must give for the contacts below. */
const ROWS = [
  ['9876543210', 'Zoë Ñandú', '2024-03-15', '42', '84', 'TRUE', 'vip'],
  ['9811111111', 'Asha', '2024-03-15T09:30:00', '1.5', '3', 'FALSE'],
  ['9822222222', '', '', '0.1', '0', 'TRUE', 'x'],
];

let dir: string;
const file = (name: string) => join(dir, name);

async function readAll(path: string, kind: SheetKind, limits: SheetLimits = LIMITS) {
  const source = await readSheetRecords(path, kind, limits);
  const rows: string[][] = [];
  let batches = 0;
  try {
    for await (const batch of source.batches) {
      batches++;
      rows.push(...batch);
    }
  } finally {
    source.close();
  }
  return { header: source.header, rows, batches };
}

function isSheetError(code: SheetError['code']) {
  return (error: unknown) => error instanceof SheetError && error.code === code;
}

/** The contacts as Excel would store them: a phone as a number, dates, formulas with results, rich text. */
async function writeContactsXlsx(path: string): Promise<void> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Contacts');
  sheet.addRow(HEADER);
  sheet.addRow([
    9876543210,
    { richText: [{ text: 'Zoë ' }, { font: { bold: true }, text: 'Ñandú' }] },
    new Date(Date.UTC(2024, 2, 15)),
    42,
    { formula: 'D2*2', result: 84 },
    true,
    'vip',
  ]);
  sheet.addRow([
    9811111111,
    'Asha',
    new Date(Date.UTC(2024, 2, 15, 9, 30)),
    1.5,
    { formula: 'D3*2', result: 3 },
    false,
  ]);
  sheet.getCell('C3').numFmt = 'yyyy-mm-dd hh:mm';
  sheet.addRow([9822222222, null, null, 0.1, { formula: 'D4*0', result: 0 }, true, 'x']);
  // Trailing rows that hold nothing a person would see.
  sheet.getCell('A6').value = '';
  sheet.getCell('B7').numFmt = '0.00';
  workbook.addWorksheet('Notes').addRow(['should', 'not', 'appear']);
  await workbook.xlsx.writeFile(path);
}

async function writeContactsXls(path: string): Promise<void> {
  const date = (serial: number, z: string): XLSX.CellObject => ({ t: 'n', v: serial, z });
  const sheet = XLSX.utils.aoa_to_sheet([
    HEADER,
    [9876543210, 'Zoë Ñandú', date(45366, 'yyyy-mm-dd'), 42, { t: 'n', v: 84, f: 'D2*2' }, true, 'vip'],
    [9811111111, 'Asha', date(45366.395833333336, 'yyyy-mm-dd hh:mm'), 1.5, { t: 'n', v: 3, f: 'D3*2' }, false],
    [9822222222, null, null, 0.1, { t: 'n', v: 0, f: 'D4*0' }, true, 'x'],
    [],
    ['', ''],
  ]);
  const workbook = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(workbook, sheet, 'Contacts');
  XLSX.utils.book_append_sheet(workbook, XLSX.utils.aoa_to_sheet([['should', 'not', 'appear']]), 'Notes');
  await writeFile(path, XLSX.write(workbook, { type: 'buffer', bookType: 'biff8' }) as Buffer);
}

async function writeContactsCsv(path: string): Promise<void> {
  const lines = [HEADER, ...ROWS].map((row) => row.join(','));
  await writeFile(path, iconv.encode(`${lines.join('\r\n')}\r\n\r\n,,,\r\n`, 'windows-1252'));
}

/** Rewrites a zip with its entries in another order or with changed contents. */
async function rezip(
  source: string,
  target: string,
  order: (names: string[]) => string[],
  edit?: (name: string, text: string) => string,
) {
  const input = await JSZip.loadAsync(await readFile(source));
  const output = new JSZip();
  const names = Object.keys(input.files).filter((name) => !input.files[name]?.dir);
  for (const name of order(names)) {
    const text = await input.file(name)!.async('string');
    output.file(name, edit ? edit(name, text) : text);
  }
  await writeFile(target, await output.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'roster-sheets-'));
  await writeContactsXlsx(file('contacts.xlsx'));
  await writeContactsXls(file('contacts.xls'));
  await writeContactsCsv(file('contacts.csv'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sheet kind', () => {
  it('is told by the last extension, in any case', () => {
    assert.equal(sheetKindOf('x.CSV'), 'csv');
    assert.equal(sheetKindOf('a.b.xlsx'), 'xlsx');
    assert.equal(sheetKindOf('x.xls'), 'xls');
    assert.equal(sheetKindOf('Report.XLS'), 'xls');
    assert.equal(sheetKindOf('x.txt'), undefined);
    assert.equal(sheetKindOf('x.xlsx.txt'), undefined);
    assert.equal(sheetKindOf('x.xlsm'), undefined);
    assert.equal(sheetKindOf('xlsx'), undefined);
  });
});

describe('sheet reader', () => {
  for (const kind of ['csv', 'xlsx', 'xls'] as const) {
    it(`reads a ${kind} file as the same header and rows as the other formats`, async () => {
      const result = await readAll(file(`contacts.${kind}`), kind);
      assert.deepEqual(result.header, HEADER);
      assert.deepEqual(result.rows, ROWS);
    });
  }

  it('reads the first tab of a workbook even when another sheet is stored first', async () => {
    const path = file('second-tab-first.xlsx');
    // Swap the tabs: "Notes" (stored as sheet2.xml) becomes the first.
    await rezip(
      file('contacts.xlsx'),
      path,
      (names) => names,
      (name, text) =>
        name === 'xl/workbook.xml'
          ? text.replace(/(<sheet [^>]*name="Contacts"[^>]*\/>)(<sheet [^>]*name="Notes"[^>]*\/>)/, '$2$1')
          : text,
    );
    const result = await readAll(path, 'xlsx');
    assert.deepEqual(result.header, ['should', 'not', 'appear']);
    assert.deepEqual(result.rows, []);
  });

  it('reads a workbook whose shared strings and styles are stored before its sheets', async () => {
    const path = file('strings-first.xlsx');
    const rank = (name: string) => (name.includes('worksheets/') ? 1 : 0);
    await rezip(file('contacts.xlsx'), path, (names) => [...names].sort((a, b) => rank(a) - rank(b)));
    const result = await readAll(path, 'xlsx');
    assert.deepEqual(result.header, HEADER);
    assert.deepEqual(result.rows, ROWS);
  });

  it('leaves no temporary files behind after reading a workbook', async () => {
    const ours = async () => (await readdir(tmpdir())).filter((name) => name.startsWith(`tmp-${process.pid}-`));
    const before = await ours();
    await readAll(file('contacts.xlsx'), 'xlsx');
    // exceljs copies each sheet stored before the shared strings to a file, and unlinks it asynchronously.
    for (let wait = 0; wait < 50 && (await ours()).length > before.length; wait++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(await ours(), before);
  });

  it('reads a 10,000-row workbook in batches of 1000', async () => {
    const path = file('large.xlsx');
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: true });
    const sheet = workbook.addWorksheet('Contacts');
    sheet.addRow(['phoneNumber', 'name']).commit();
    for (let i = 0; i < 10_000; i++) sheet.addRow([9800000000 + i, `Name ${i}`]).commit();
    sheet.commit();
    await workbook.commit();
    const result = await readAll(path, 'xlsx');
    assert.equal(result.rows.length, 10_000);
    assert.equal(result.batches, 10);
    assert.deepEqual(result.rows[9_999], ['9800009999', 'Name 9999']);
  });

  it('releases the file when closed before the last batch or before any', async () => {
    const open = async () => (await readdir('/proc/self/fd').catch(() => [])).length;
    const before = await open();
    for (let i = 0; i < 5; i++) {
      const source = await readSheetRecords(file('large.xlsx'), 'xlsx', LIMITS);
      for await (const batch of source.batches) {
        assert.equal(batch.length, 1000);
        break;
      }
      source.close();
      (await readSheetRecords(file('large.xlsx'), 'xlsx', LIMITS)).close();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await open(), before);
  });

  it('leaves no open descriptor and no temporary file when an .xlsx is refused or read stops early', async () => {
    // exceljs-written workbooks store their sheets before the shared strings, as Excel does: the
    // order that made exceljs's own WorkbookReader copy sheets to temporary files it never closed.
    const descriptors = async () => (await readdir('/proc/self/fd')).length;
    const temporary = async () =>
      (await readdir(tmpdir())).filter((name) => name.startsWith(`tmp-${process.pid}-`)).length;
    await writeFile(file('not-a-zip.xlsx'), 'phoneNumber\n9876543210\n');
    const refusals: [string, SheetLimits][] = [
      ['large.xlsx', { ...LIMITS, maxRows: 1500 }], // too many rows, found in the second batch
      ['large.xlsx', { ...LIMITS, maxColumns: 1 }], // the header is too wide
      ['large.xlsx', { ...LIMITS, maxUncompressedBytes: 64 * 1024 }], // inflates past the limit mid-sheet
      ['contacts.xlsx', { ...LIMITS, maxZipEntries: 3 }], // refused by its central directory
      ['not-a-zip.xlsx', LIMITS],
    ];
    const before = { descriptors: await descriptors(), temporary: await temporary() };
    for (let round = 0; round < 3; round++) {
      for (const [name, limits] of refusals)
        await assert.rejects(
          readAll(file(name), 'xlsx', limits),
          isSheetError(name === 'not-a-zip.xlsx' ? 'invalid_spreadsheet' : 'spreadsheet_too_large'),
        );
      const early = await readSheetRecords(file('large.xlsx'), 'xlsx', LIMITS);
      for await (const _ of early.batches) break;
      (await readSheetRecords(file('contacts.xlsx'), 'xlsx', LIMITS)).close();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = { descriptors: await descriptors(), temporary: await temporary() };
    assert.deepEqual(after, before);
  });

  it('gives no header for an empty CSV', async () => {
    await writeFile(file('empty.csv'), '');
    const result = await readAll(file('empty.csv'), 'csv');
    assert.equal(result.header, undefined);
    assert.deepEqual(result.rows, []);
  });
});

describe('sheet limits', () => {
  for (const kind of ['csv', 'xlsx', 'xls'] as const) {
    it(`refuses a ${kind} file with more data rows than maxRows`, async () => {
      await assert.rejects(
        readAll(file(`contacts.${kind}`), kind, { ...LIMITS, maxRows: 2 }),
        isSheetError('spreadsheet_too_large'),
      );
      const exact = await readAll(file(`contacts.${kind}`), kind, { ...LIMITS, maxRows: 3 });
      assert.equal(exact.rows.length, 3);
    });

    it(`refuses a ${kind} file with rows wider than maxColumns`, async () => {
      await assert.rejects(
        readAll(file(`contacts.${kind}`), kind, { ...LIMITS, maxColumns: 6 }),
        isSheetError('spreadsheet_too_large'),
      );
    });

    it(`refuses a ${kind} file larger than maxBytes`, async () => {
      await assert.rejects(
        readAll(file(`contacts.${kind}`), kind, { ...LIMITS, maxBytes: 100 }),
        isSheetError('spreadsheet_too_large'),
      );
    });
  }

  it('reads a CSV row of exactly maxRowBytes, and refuses a longer one as invalid_spreadsheet naming its row (blank rows not counted)', async () => {
    const limits = { ...LIMITS, maxRowBytes: 4096 };
    const row = (bytes: number) => `9811111111,${'x'.repeat(bytes - 11)}`;
    await writeFile(file('row-at-bound.csv'), `phoneNumber,name\r\n${row(4096)}\r\n9822222222,B\r\n`);
    const read = await readAll(file('row-at-bound.csv'), 'csv', limits);
    assert.deepEqual(
      read.rows.map((r) => r[0]),
      ['9811111111', '9822222222'],
    );

    // Row 3 as batches number rows: the line of bare commas and the empty line are blank rows.
    await writeFile(
      file('row-over-bound.csv'),
      `phoneNumber,name\r\n9811111111,A\r\n,,\r\n\r\n${row(4097)}\r\n9822222222,B\r\n`,
    );
    await assert.rejects(readAll(file('row-over-bound.csv'), 'csv', limits), (error: unknown) => {
      assert.ok(isSheetError('invalid_spreadsheet')(error), String(error));
      assert.equal((error as SheetError).statusCode, 400);
      assert.match(
        (error as SheetError).message,
        /^Row 3 cannot be read: it runs on for more than 4096 bytes .*ROSTER_MAX_ROW_BYTES/,
      );
      return true;
    });
  });

  it('refuses a CSV whose quote never closes as invalid_spreadsheet, without reading all of it', async () => {
    const path = file('unclosed-quote.csv');
    await writeFile(path, `phoneNumber,name\n"9811111111,A\n${'9822222222,B\n'.repeat(400_000)}`);
    const started = performance.now();
    await assert.rejects(readAll(path, 'csv', { ...LIMITS, maxRowBytes: 64 * 1024 }), (error: unknown) => {
      assert.ok(isSheetError('invalid_spreadsheet')(error), String(error));
      assert.match(
        (error as SheetError).message,
        /^Row 2 cannot be read: it opens a quoted field that is still not closed after 65536 bytes/,
      );
      return true;
    });
    assert.ok(performance.now() - started < 5000);
  });

  it('refuses a CSV header longer than maxRowBytes as invalid_spreadsheet naming row 1', async () => {
    const path = file('long-header.csv');
    await writeFile(path, `${'name,'.repeat(2000)}phone\n9811111111\n`);
    await assert.rejects(readAll(path, 'csv', { ...LIMITS, maxRowBytes: 4096 }), (error: unknown) => {
      assert.ok(isSheetError('invalid_spreadsheet')(error), String(error));
      assert.match((error as SheetError).message, /^Row 1 cannot be read/);
      return true;
    });
  });

  it('refuses an .xls that is not an Excel 97–2003 workbook', async () => {
    await assert.rejects(readAll(file('contacts.csv'), 'xls'), isSheetError('invalid_spreadsheet'));
    await assert.rejects(readAll(file('contacts.xlsx'), 'xls'), isSheetError('invalid_spreadsheet'));
  });

  it('refuses a damaged .xls as invalid', async () => {
    const path = file('damaged.xls');
    await writeFile(
      path,
      Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(600, 7)]),
    );
    await assert.rejects(readAll(path, 'xls'), isSheetError('invalid_spreadsheet'));
  });
});
