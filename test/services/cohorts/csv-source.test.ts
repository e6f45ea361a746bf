import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import iconv from 'iconv-lite';
import Papa from 'papaparse';
import { EncodingSniffer, readCsvRecords } from '../../../src/services/cohorts/csv-source.js';

async function readAll(bytes: Buffer, chunkSize: number) {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  const sniffer = new EncodingSniffer();
  const sniffed: Buffer[] = [];
  for await (const chunk of Readable.from(chunks).pipe(sniffer)) sniffed.push(chunk as Buffer);
  const source = await readCsvRecords(Readable.from(sniffed), sniffer.encoding);
  const rows: string[][] = [];
  let batches = 0;
  for await (const batch of source.batches) {
    batches++;
    rows.push(...batch);
  }
  source.close();
  return { header: source.header, rows, batches, delimiter: source.delimiter, encoding: sniffer.encoding };
}

/** 20k rows whose quoted fields hold commas, quotes, CRLF and LF, so records straddle every chunk edge. */
function awkwardCsv(): string {
  const lines = ['phone;name;note'];
  for (let i = 0; i < 20_000; i++) lines.push(`98${String(i).padStart(8, '0')};"Name ${i}; ""q""";"line one\r\nline two\n${'x'.repeat(i % 97)}"`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

describe('CSV reader', () => {
  it('gives the same records as parsing the whole text at once, at any chunk size', async () => {
    const text = awkwardCsv();
    const expected = Papa.parse<string[]>(text, { delimiter: ';', skipEmptyLines: true }).data;
    for (const chunkSize of [7, 1000, 65_536]) {
      const result = await readAll(Buffer.from(text), chunkSize);
      assert.equal(result.delimiter, ';');
      assert.deepEqual(result.header, expected[0]);
      assert.equal(result.rows.length, expected.length - 1);
      assert.deepEqual(result.rows, expected.slice(1));
      assert.ok(result.batches > 1, 'the file was not read in batches');
    }
  });

  it('reads UTF-16 LE and BE with a BOM, and Windows-1252 without one', async () => {
    const text = 'mobile,name\n9811111111,Zoë Ñandú €\n';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, 'utf-16le')]);
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode(text, 'utf-16be')]);
    const cp1252 = iconv.encode(text, 'windows-1252');
    for (const [bytes, encoding] of [[le, 'utf-16le'], [be, 'utf-16be'], [cp1252, 'windows-1252']] as const) {
      const result = await readAll(bytes, 5);
      assert.equal(result.encoding, encoding);
      assert.deepEqual(result.rows, [['9811111111', 'Zoë Ñandú €']]);
    }
  });

  it('tells an empty file from a header without data', async () => {
    assert.equal((await readAll(Buffer.from(''), 10)).header, undefined);
    const headerOnly = await readAll(Buffer.from('mobile,name\r\n'), 10);
    assert.deepEqual(headerOnly.header, ['mobile', 'name']);
    assert.deepEqual(headerOnly.rows, []);
  });
});
