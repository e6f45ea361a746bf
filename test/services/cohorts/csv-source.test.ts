import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import iconv from 'iconv-lite';
import Papa from 'papaparse';
import { BlockingCohortError } from '../../../src/services/cohorts/cohort-deps.js';
import {
  CsvRowTooLongError,
  EncodingSniffer,
  readCsvRecords,
  type CsvLimits,
} from '../../../src/services/cohorts/csv-source.js';

async function readAll(bytes: Buffer, chunkSize: number, limits?: CsvLimits) {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  const sniffer = new EncodingSniffer();
  const sniffed: Buffer[] = [];
  for await (const chunk of Readable.from(chunks).pipe(sniffer)) sniffed.push(chunk as Buffer);
  const source = await readCsvRecords(Readable.from(sniffed), sniffer.encoding, limits);
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
  for (let i = 0; i < 20_000; i++)
    lines.push(`98${String(i).padStart(8, '0')};"Name ${i}; ""q""";"line one\r\nline two\n${'x'.repeat(i % 97)}"`);
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
    for (const [bytes, encoding] of [
      [le, 'utf-16le'],
      [be, 'utf-16be'],
      [cp1252, 'windows-1252'],
    ] as const) {
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

/** Reads until the end or the first error; answers the records read and the error. */
async function readUntilError(bytes: Buffer, chunkSize: number, limits: CsvLimits, trickle = false) {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  const slowly = async function* () {
    for (const chunk of chunks) {
      await new Promise((resolve) => setImmediate(resolve));
      yield chunk;
    }
  };
  const rows: string[][] = [];
  let source: Awaited<ReturnType<typeof readCsvRecords>> | undefined;
  try {
    source = await readCsvRecords(Readable.from(trickle ? slowly() : chunks), 'utf-8', limits);
    for await (const batch of source.batches) rows.push(...batch);
    return { rows, error: undefined };
  } catch (error) {
    return { rows, error };
  } finally {
    source?.close();
  }
}

function assertRowTooLong(error: unknown, row: number, openQuote: boolean): void {
  assert.ok(error instanceof CsvRowTooLongError, `expected a row-too-long error, got ${String(error)}`);
  assert.ok(error instanceof BlockingCohortError);
  assert.equal(error.code, 'invalid_csv');
  assert.match(error.message, new RegExp(`^Row ${row} cannot be read: `));
  assert.match(error.message, /ROSTER_MAX_ROW_BYTES/);
  assert.match(error.message, openQuote ? /quoted field that is still not closed/ : /without a line break/);
  assert.deepEqual(error.details, { row, max_row_bytes: 4096, open_quote: openQuote });
}

describe('CSV reader row bound', () => {
  const limits: CsvLimits = { maxRowBytes: 4096 };
  // 9811111111,€€…€ : 11 bytes, then 3 bytes of UTF-8 per euro sign (one character each).
  const euroRow = (euros: number, extra = '') => `9811111111,${'€'.repeat(euros)}${extra}`;

  it('reads a record of exactly maxRowBytes (UTF-8 bytes, not characters), at any chunk size', async () => {
    const row = euroRow(1361, 'xy');
    assert.equal(Buffer.byteLength(row), 4096);
    for (const newline of ['\n', '\r\n']) {
      const text = `mobile,name${newline}${row}${newline}9822222222,B${newline}`;
      for (const chunkSize of [7, 1000, 65_536]) {
        const result = await readAll(Buffer.from(text), chunkSize, limits);
        assert.deepEqual(result.rows, [row.split(','), ['9822222222', 'B']]);
      }
      // One byte per tick reaches the parser alone: a chunk edge everywhere, also between CR and LF.
      const { rows, error } = await readUntilError(Buffer.from(text), 1, limits, true);
      assert.equal(error, undefined);
      assert.deepEqual(rows, [row.split(','), ['9822222222', 'B']]);
    }
  });

  it('stops at the first record over the bound, naming its row (header = 1, blank lines not counted), after the rows before it', async () => {
    const row = euroRow(1361, 'xyz');
    assert.equal(Buffer.byteLength(row), 4097);
    assert.ok(row.length < 4096 / 2, 'the row is short in characters: only its UTF-8 bytes are over');
    const text = `mobile,name\n9811111111,A\n\n9822222222,B\n${row}\n9833333333,C\n`;
    for (const chunkSize of [7, 1000, 65_536]) {
      const { rows, error } = await readUntilError(Buffer.from(text), chunkSize, limits);
      assertRowTooLong(error, 4, false);
      assert.deepEqual(rows, [
        ['9811111111', 'A'],
        ['9822222222', 'B'],
      ]);
    }
  });

  it('names an unclosed quote as the likely cause, without reading the rest of the file', async () => {
    const rest = '9811111111,Somebody\n'.repeat(50_000);
    const text = Buffer.from(`mobile,name\n9800000000,"Asha\n${rest}`);
    let pulled = 0;
    const counted = Readable.from(
      (function* () {
        for (let i = 0; i < text.length; i += 65_536) {
          pulled += Math.min(65_536, text.length - i);
          yield text.subarray(i, i + 65_536);
        }
      })(),
    );
    const source = await readCsvRecords(counted, 'utf-8', limits);
    await assert.rejects(
      (async () => {
        for await (const _batch of source.batches) assert.fail('no data row comes before row 2');
      })(),
      (error: unknown) => {
        assertRowTooLong(error, 2, true);
        return true;
      },
    );
    source.close();
    assert.ok(pulled < text.length / 4, `read ${pulled} of ${text.length} bytes`);
  });

  it('names a line of endless delimiters as a runaway row, and never holds it whole', async () => {
    // 8 million commas: parsed whole this would be an array of 8 million fields.
    const commas = Buffer.from(','.repeat(1 << 20));
    const lines = [
      Buffer.from('mobile,name\n9811111111,A\n'),
      ...Array.from({ length: 8 }, () => commas),
      Buffer.from('\n9822222222,B\n'),
    ];
    const { rows, error } = await readUntilError(Buffer.concat(lines), 65_536, limits);
    assertRowTooLong(error, 3, false);
    assert.deepEqual(rows, [['9811111111', 'A']]);
  });

  it('refuses a header over the bound from readCsvRecords itself, with or without a line break after it', async () => {
    for (const text of [`${'a,'.repeat(3000)}b\n9811111111\n`, 'a,'.repeat(100_000)]) {
      const { error } = await readUntilError(Buffer.from(text), 1000, limits);
      assertRowTooLong(error, 1, false);
    }
  });

  it('reads an unclosed quote near the end of a small file as before: the rest of the file is its last field', async () => {
    const text = 'mobile,name\n9811111111,A\n9822222222,"B\n9833333333,C\n';
    const expected = Papa.parse<string[]>(text, { skipEmptyLines: true }).data;
    assert.deepEqual(expected[2], ['9822222222', 'B\n9833333333,C\n']);
    for (const chunkSize of [3, 65_536]) {
      const result = await readAll(Buffer.from(text), chunkSize, limits);
      assert.deepEqual(result.rows, expected.slice(1));
    }
  });

  it('reads no further ahead than a few chunks while a batch waits to be taken', async () => {
    const line = Buffer.from('9811111111,Somebody with a name\n'.repeat(2000));
    let pulled = 0;
    const source = await readCsvRecords(
      Readable.from(
        (function* () {
          yield Buffer.from('mobile,name\n');
          for (let i = 0; i < 1000; i++) {
            pulled += line.length;
            yield line;
          }
        })(),
      ),
      'utf-8',
    );
    const iterator = source.batches[Symbol.asyncIterator]();
    await iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 200));
    source.close();
    // 64 MB on offer; the stream buffers between the file and the parser hold a few megabytes.
    assert.ok(pulled < 8 * 1024 * 1024, `read ${pulled} bytes ahead of the consumer`);
  });
});
