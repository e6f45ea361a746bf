import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cellText,
  dateText,
  excelSerialToDate,
  isDateFormat,
  numberText,
} from '../../../src/services/batches/cell-text.js';
import { xlsCellText } from '../../../src/services/batches/xls-reader.js';

const text = (value: unknown, format?: string) => cellText(value, format, false);

describe('cell text', () => {
  it('writes a phone stored as a number in full digits, without exponent or grouping', () => {
    assert.equal(text(9876543210), '9876543210');
    assert.equal(text(919876543210), '919876543210');
    assert.equal(text(123456789012345), '123456789012345');
    assert.equal(text(1e21), '1000000000000000000000');
    assert.equal(text(-42), '-42');
    assert.equal(text(-0), '0');
  });

  it('pads an integer back to the width of a format made of zeros', () => {
    assert.equal(numberText(987654321, '0000000000'), '0987654321');
    assert.equal(numberText(12, '0'), '12');
    assert.equal(numberText(1234, '#,##0'), '1234');
  });

  it('writes a decimal as the shortest text that reads back as the same number, never in exponent form', () => {
    assert.equal(text(0.1), '0.1');
    assert.equal(text(1.5), '1.5');
    assert.equal(text(-2.25), '-2.25');
    assert.equal(text(1.5e-7), '0.00000015');
    assert.equal(text(-1e-7), '-0.0000001');
    assert.equal(Number(text(1.5e-7)), 1.5e-7);
  });

  it('ignores currency, percent and decimal-place formats', () => {
    assert.equal(text(0.15, '0%'), '0.15');
    assert.equal(text(1234.5, '"$"#,##0.00'), '1234.5');
  });

  it('gives no text for NaN and infinities', () => {
    assert.equal(text(Number.NaN), '');
    assert.equal(text(Number.POSITIVE_INFINITY), '');
  });

  it('tells date formats from number formats as exceljs does', () => {
    for (const format of ['mm-dd-yy', 'yyyy-mm-dd hh:mm', 'd-mmm', '[$-409]mmmm d, yyyy', 'h:mm AM/PM', '[h]:mm:ss']) {
      assert.equal(isDateFormat(format), true, format);
    }
    for (const format of [undefined, '', 'General', '0', '0.00%', '#,##0.00 "days"', '[Red]0.00', '@']) {
      assert.equal(isDateFormat(format), false, String(format));
    }
  });

  it('writes dates as ISO dates, with the time of day only when there is one', () => {
    assert.equal(text(new Date(Date.UTC(2024, 2, 15))), '2024-03-15');
    assert.equal(text(new Date(Date.UTC(2024, 2, 15, 9, 30))), '2024-03-15T09:30:00');
    assert.equal(text(new Date(Date.UTC(2024, 2, 15, 9, 30, 59, 700))), '2024-03-15T09:31:00');
    assert.equal(text(new Date(Number.NaN)), '');
  });

  it('reads a number under a date format as the date its serial stands for', () => {
    assert.equal(text(45366, 'mm-dd-yy'), '2024-03-15');
    assert.equal(text(45366.395833333336, 'yyyy-mm-dd hh:mm'), '2024-03-15T09:30:00');
    assert.equal(cellText(43904, 'yyyy-mm-dd', true), '2024-03-15');
  });

  it('writes a time without a date as the time of day', () => {
    assert.equal(text(0.5, 'h:mm'), '12:00:00');
    assert.equal(dateText(excelSerialToDate(0.75, true), true), '18:00:00');
  });

  it('writes booleans as TRUE and FALSE', () => {
    assert.equal(text(true), 'TRUE');
    assert.equal(text(false), 'FALSE');
  });

  it('joins the runs of rich text', () => {
    assert.equal(
      text({ richText: [{ text: 'Zoë ' }, { font: { bold: true }, text: 'Ñandú' }, { text: null }] }),
      'Zoë Ñandú',
    );
  });

  it('shows a formula as its cached result rendered by the same rules, or as nothing without one', () => {
    assert.equal(text({ formula: 'A1*2', result: 84 }), '84');
    assert.equal(text({ formula: 'A1', result: 9876543210 }), '9876543210');
    assert.equal(text({ formula: 'TODAY()', result: 45366 }, 'yyyy-mm-dd'), '2024-03-15');
    assert.equal(text({ sharedFormula: 'C2', result: 0 }), '0');
    assert.equal(text({ formula: 'A1&"x"', result: 'ax' }), 'ax');
    assert.equal(text({ formula: 'A1>0', result: true }), 'TRUE');
    assert.equal(text({ formula: 'A1*2' }), '');
  });

  it('writes an error as its code and a hyperlink as its text', () => {
    assert.equal(text({ error: '#N/A' }), '#N/A');
    assert.equal(text({ text: 'Website', hyperlink: 'https://example.com' }), 'Website');
    assert.equal(
      text({ text: { richText: [{ text: 'Rich' }, { text: ' link' }] }, hyperlink: 'https://example.com' }),
      'Rich link',
    );
  });

  it('gives empty text for empty cells and unknown shapes', () => {
    assert.equal(text(null), '');
    assert.equal(text(undefined), '');
    assert.equal(text({}), '');
    assert.equal(text('  kept as is '), '  kept as is ');
  });

  it('reads SheetJS cells of an .xls by the same rules, not by their displayed text', () => {
    assert.equal(xlsCellText({ t: 'n', v: 919876543210, z: 'General', w: '9.19877E+11' }, false), '919876543210');
    assert.equal(xlsCellText({ t: 'n', v: 45366, z: 'm/d/yy', w: '3/15/24' }, false), '2024-03-15');
    assert.equal(xlsCellText({ t: 'n', v: 987654321, z: '0000000000' }, false), '0987654321');
    assert.equal(xlsCellText({ t: 'd', v: new Date(Date.UTC(2024, 2, 15, 9, 30)) }, false), '2024-03-15T09:30:00');
    assert.equal(xlsCellText({ t: 'b', v: true }, false), 'TRUE');
    assert.equal(xlsCellText({ t: 's', v: 'Asha' }, false), 'Asha');
    assert.equal(xlsCellText({ t: 'e', v: 42, w: '#N/A' }, false), '#N/A');
    assert.equal(xlsCellText({ t: 'z' }, false), '');
  });
});
