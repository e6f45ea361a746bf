import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { readSheetRecords, SheetError, type SheetLimits } from '../../../src/services/batches/sheet-source.js';

const LIMITS: SheetLimits = {
  maxBytes: 50 * 1024 * 1024,
  maxRows: 200_000,
  maxColumns: 200,
  maxRowBytes: 1024 * 1024,
  maxZipEntries: 1000,
  maxUncompressedBytes: 500 * 1024 * 1024,
};
const MB = 1024 * 1024;

let dir: string;
const file = (name: string) => join(dir, name);

async function readAll(path: string, limits: SheetLimits = LIMITS) {
  const source = await readSheetRecords(path, 'xlsx', limits);
  const rows: string[][] = [];
  try {
    for await (const batch of source.batches) rows.push(...batch);
  } finally {
    source.close();
  }
  return { header: source.header, rows };
}

function refusal(code: SheetError['code'], message: RegExp) {
  return (error: unknown) => error instanceof SheetError && error.code === code && message.test(error.message);
}

/** A real workbook whose sheet part is padded with `bytes` of blanks, which compress like zeros. */
async function paddedWorkbook(bytes: number): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.addWorksheet('Contacts').addRows([['phoneNumber'], [9876543210]]);
  const zip = await JSZip.loadAsync(await workbook.xlsx.writeBuffer());
  const sheet = await zip.file('xl/worksheets/sheet1.xml')!.async('string');
  zip.file('xl/worksheets/sheet1.xml', sheet.replace('<sheetData>', `<sheetData>${' '.repeat(bytes)}`));
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 9 } });
}

/** Overwrites the uncompressed size every local and central header declares, as a crafted bomb does. */
function declareSizes(zip: Buffer, size: number): Buffer {
  const out = Buffer.from(zip);
  for (const [signature, field] of [
    [0x04034b50, 22],
    [0x02014b50, 24],
  ] as const) {
    const marker = Buffer.alloc(4);
    marker.writeUInt32LE(signature);
    for (let at = out.indexOf(marker); at >= 0; at = out.indexOf(marker, at + 4)) out.writeUInt32LE(size, at + field);
  }
  return out;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'roster-zips-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('xlsx zip guard', () => {
  it('refuses an archive whose entries declare more bytes in all than maxUncompressedBytes', async () => {
    await writeFile(file('big.xlsx'), await paddedWorkbook(5 * MB));
    await assert.rejects(
      readAll(file('big.xlsx'), { ...LIMITS, maxUncompressedBytes: MB }),
      refusal('spreadsheet_too_large', /unpacks to more than 1048576 bytes/),
    );
  });

  it('refuses an entry over 1 MB compressed more than 200 times, whatever the total limit', async () => {
    await writeFile(file('ratio.xlsx'), await paddedWorkbook(5 * MB));
    await assert.rejects(
      readAll(file('ratio.xlsx')),
      refusal('spreadsheet_too_large', /compressed more than 200 times/),
    );
  });

  it('refuses an archive that understates its sizes, by counting the bytes it inflates to', async () => {
    await writeFile(file('liar.xlsx'), declareSizes(await paddedWorkbook(5 * MB), 1000));
    await assert.rejects(
      readAll(file('liar.xlsx'), { ...LIMITS, maxUncompressedBytes: MB }),
      refusal('spreadsheet_too_large', /unpacks to more than/),
    );
    await assert.rejects(
      readAll(file('liar.xlsx')),
      refusal('spreadsheet_too_large', /compressed more than 200 times/),
    );
  });

  it('refuses an archive with more entries than maxZipEntries', async () => {
    const zip = new JSZip();
    for (let i = 0; i < 11; i++) zip.file(`xl/media/image${i}.txt`, `entry ${i}`);
    await writeFile(file('many.xlsx'), await zip.generateAsync({ type: 'nodebuffer' }));
    await assert.rejects(
      readAll(file('many.xlsx'), { ...LIMITS, maxZipEntries: 10 }),
      refusal('spreadsheet_too_large', /more than 10 entries/),
    );
  });

  it('refuses a file with an .xlsx name that is not a zip as invalid', async () => {
    await writeFile(file('text.xlsx'), 'phoneNumber,name\n9876543210,Asha\n');
    await assert.rejects(readAll(file('text.xlsx')), refusal('invalid_spreadsheet', /not a zip/));
    await writeFile(file('empty.xlsx'), '');
    await assert.rejects(readAll(file('empty.xlsx')), refusal('invalid_spreadsheet', /not a zip/));
  });

  it('refuses a zip that is not a workbook as invalid', async () => {
    const zip = new JSZip();
    zip.file('readme.txt', 'not a workbook');
    await writeFile(file('plain.xlsx'), await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
    await assert.rejects(readAll(file('plain.xlsx')), refusal('invalid_spreadsheet', /not a workbook/));
  });

  it('refuses a workbook whose first sheet part is missing as invalid', async () => {
    const zip = await JSZip.loadAsync(await paddedWorkbook(0));
    zip.remove('xl/worksheets/sheet1.xml');
    await writeFile(file('sheetless.xlsx'), await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
    await assert.rejects(readAll(file('sheetless.xlsx')), refusal('invalid_spreadsheet', /no worksheet/));
  });

  it('refuses a workbook whose sheet is not XML as invalid', async () => {
    const zip = await JSZip.loadAsync(await paddedWorkbook(0));
    zip.file('xl/worksheets/sheet1.xml', '<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c></sheetData>');
    await writeFile(file('broken.xlsx'), await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
    await assert.rejects(readAll(file('broken.xlsx')), refusal('invalid_spreadsheet', /damaged/));
  });

  it('refuses a truncated workbook as invalid', async () => {
    const whole = await paddedWorkbook(0);
    await writeFile(file('truncated.xlsx'), whole.subarray(0, whole.length - 200));
    await assert.rejects(readAll(file('truncated.xlsx')), refusal('invalid_spreadsheet', /./));
  });

  it('reads a workbook whose zip entries give their sizes after the data', async () => {
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('Contacts').addRows([
      ['phoneNumber', 'name'],
      [9876543210, 'Asha'],
    ]);
    const original = await JSZip.loadAsync(await workbook.xlsx.writeBuffer());
    const streamed = await original.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', streamFiles: true });
    await writeFile(file('descriptors.xlsx'), streamed);
    const result = await readAll(file('descriptors.xlsx'));
    assert.deepEqual(result.header, ['phoneNumber', 'name']);
    assert.deepEqual(result.rows, [['9876543210', 'Asha']]);
  });
});
