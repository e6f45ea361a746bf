import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { SaxesParser, type SaxesTagPlain } from 'saxes';

/**
 * The workbook-wide parts of an .xlsx (SpreadsheetML, ECMA-376 part 1 §18), read with saxes as
 * they inflate: which part is the first tab, the date system, the shared strings and the number
 * format of each cell style.
 */

/** A parser that ignores namespaces: element names are matched by their local part. */
export type XmlParser = SaxesParser<{ xmlns: false }>;

export function xmlParser(): XmlParser {
  return new SaxesParser({ xmlns: false });
}

/** An element's name without its prefix: `x:c` and `c` are the same cell. */
export function localName(tag: { name: string }): string {
  return tag.name.slice(tag.name.indexOf(':') + 1);
}

/**
 * Feeds a part's XML to the parser one inflated chunk at a time, pausing after each so that the
 * caller takes what the chunk produced before more is read. Throws on malformed XML or UTF-8.
 */
export async function* feedXml(part: Readable, parser: XmlParser): AsyncGenerator<void> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of part) {
      parser.write(decoder.decode(chunk as Buffer, { stream: true }));
      yield;
    }
    parser.write(decoder.decode());
    parser.close();
  } finally {
    part.destroy();
  }
}

async function readXml(part: Readable, parser: XmlParser): Promise<void> {
  for await (const _ of feedXml(part, parser));
}

export interface WorkbookInfo {
  /** The relationship id of the first tab in xl/workbook.xml. */
  firstSheetId: string | undefined;
  /** Whether serial dates count from 1904 (old Mac workbooks). */
  date1904: boolean;
}

/** xl/workbook.xml: the first tab and the date system. */
export async function readWorkbook(part: Readable): Promise<WorkbookInfo> {
  const info: WorkbookInfo = { firstSheetId: undefined, date1904: false };
  let sheets = 0;
  const parser = xmlParser();
  parser.on('opentag', (tag) => {
    const name = localName(tag);
    if (name === 'workbookPr') info.date1904 = isTrue(tag.attributes.date1904);
    // The relationship id is r:id, whatever prefix the file binds to its namespace.
    if (name === 'sheet' && sheets++ === 0) info.firstSheetId = attribute(tag, 'id');
  });
  await readXml(part, parser);
  return info;
}

/** xl/_rels/workbook.xml.rels: the zip path of the part a relationship id names. */
export async function readPartPaths(part: Readable): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  const parser = xmlParser();
  parser.on('opentag', (tag) => {
    const { Id: id, Target: target } = tag.attributes;
    if (localName(tag) !== 'Relationship' || id === undefined || target === undefined) return;
    // Targets are relative to xl/, the workbook's folder, or absolute within the package.
    paths.set(id, target.startsWith('/') ? target.slice(1) : posix.normalize(`xl/${target}`));
  });
  await readXml(part, parser);
  return paths;
}

/** xl/sharedStrings.xml: each string's plain text (rich-text runs joined, phonetic guides left out). */
export async function readSharedStrings(part: Readable): Promise<string[]> {
  const strings: string[] = [];
  const text = new RunText();
  const parser = xmlParser();
  parser.on('opentag', (tag) => {
    if (localName(tag) === 'si') text.start();
    else text.open(tag);
  });
  parser.on('text', (chars) => text.add(chars));
  parser.on('cdata', (chars) => text.add(chars));
  parser.on('closetag', (tag) => {
    if (localName(tag) === 'si') strings.push(text.take());
    else text.close(tag);
  });
  await readXml(part, parser);
  return strings;
}

/** xl/styles.xml: the number format of each cell style (`s` of a cell), by position. */
export async function readCellFormats(part: Readable): Promise<(string | undefined)[]> {
  const custom = new Map<number, string>();
  const styles: number[] = [];
  let inCellXfs = false;
  const parser = xmlParser();
  parser.on('opentag', (tag) => {
    const name = localName(tag);
    if (name === 'numFmt' && tag.attributes.formatCode !== undefined)
      custom.set(Number(tag.attributes.numFmtId), tag.attributes.formatCode);
    else if (name === 'cellXfs') inCellXfs = true;
    // cellStyleXfs holds xf elements too: only those under cellXfs are what cells point to.
    else if (name === 'xf' && inCellXfs) styles.push(Number(tag.attributes.numFmtId ?? 0));
  });
  parser.on('closetag', (tag) => {
    if (localName(tag) === 'cellXfs') inCellXfs = false;
  });
  await readXml(part, parser);
  return styles.map((id) => custom.get(id) ?? BUILT_IN_FORMATS.get(id));
}

/**
 * The text of `<t>` elements inside a string item (`<si>`, or a cell's `<is>`): plain, or rich-text
 * runs `<r><t>…</t></r>` joined; `<rPh>` phonetic guides are not part of what a person sees.
 */
export class RunText {
  private text = '';
  private inText = false;
  private phonetic = 0;

  start(): void {
    this.text = '';
    this.inText = false;
    this.phonetic = 0;
  }

  open(tag: SaxesTagPlain): void {
    const name = localName(tag);
    if (name === 'rPh') this.phonetic++;
    else if (name === 't' && !tag.isSelfClosing) this.inText = true;
  }

  close(tag: SaxesTagPlain): void {
    const name = localName(tag);
    if (name === 'rPh') this.phonetic--;
    else if (name === 't') this.inText = false;
  }

  add(chars: string): void {
    if (this.inText && this.phonetic === 0) this.text += chars;
  }

  take(): string {
    const text = this.text;
    this.start();
    return text;
  }
}

/**
 * Number formats Excel does not write into styles.xml (ECMA-376 §18.8.30). Only whether a format is
 * a date matters to cell-text.ts (and a format of zeros, for padding); the East Asian ids 27–36 and
 * 50–58 are dates or times in every locale, so they stand here as a plain date.
 */
const BUILT_IN_FORMATS = new Map<number, string>([
  [0, 'General'],
  [1, '0'],
  [2, '0.00'],
  [3, '#,##0'],
  [4, '#,##0.00'],
  [9, '0%'],
  [10, '0.00%'],
  [11, '0.00E+00'],
  [12, '# ?/?'],
  [13, '# ??/??'],
  [14, 'mm-dd-yy'],
  [15, 'd-mmm-yy'],
  [16, 'd-mmm'],
  [17, 'mmm-yy'],
  [18, 'h:mm AM/PM'],
  [19, 'h:mm:ss AM/PM'],
  [20, 'h:mm'],
  [21, 'h:mm:ss'],
  [22, 'm/d/yy h:mm'],
  ...[27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 50, 51, 52, 53, 54, 55, 56, 57, 58].map((id): [number, string] => [
    id,
    'yyyy-mm-dd',
  ]),
  [37, '#,##0 ;(#,##0)'],
  [38, '#,##0 ;[Red](#,##0)'],
  [39, '#,##0.00;(#,##0.00)'],
  [40, '#,##0.00;[Red](#,##0.00)'],
  [45, 'mm:ss'],
  [46, '[h]:mm:ss'],
  [47, 'mmss.0'],
  [48, '##0.0E+0'],
  [49, '@'],
]);

/** An attribute by its local name (`r:id` → `id`), the unprefixed one first. */
function attribute(tag: SaxesTagPlain, name: string): string | undefined {
  if (tag.attributes[name] !== undefined) return tag.attributes[name];
  const key = Object.keys(tag.attributes).find((key) => key.endsWith(`:${name}`));
  return key === undefined ? undefined : tag.attributes[key];
}

/** xsd:boolean. */
export function isTrue(value: string | undefined): boolean {
  return value === '1' || value === 'true';
}
