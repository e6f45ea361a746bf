import { PassThrough } from 'node:stream';
import { safeCsvLine } from '../../domain/ingest/csv-cells.js';
import { RejectionTally, type RejectionsByReason } from '../../domain/ingest/row-rejection.js';
import type { BlobStore } from '../../storage/blobs/blob-store.js';
import type { RejectionSink, RowRejection } from '../../storage/contact-loader.js';

/**
 * A rejected row's cells under the header's columns: a short row padded with empty cells, a long
 * row's fields past the last column left out (the reason names them), so the file's header stays exact.
 */
export function fitToHeader(fields: string[], width: number, reason: string): { cells: string[]; reason: string } {
  if (fields.length <= width)
    return {
      cells: fields.length === width ? fields : [...fields, ...Array<string>(width - fields.length).fill('')],
      reason,
    };
  const extra = fields.slice(width);
  return {
    cells: fields.slice(0, width),
    reason: `${reason}; the fields past the last column, left out of this file: ${extra.map((field) => JSON.stringify(field)).join(', ')}`,
  };
}

/**
 * Streams the rejection file into object storage: the original header plus `rejected_reason`, then
 * each failed row as uploaded, always with exactly the header's columns and the reason last (see
 * fitToHeader). Every cell is neutralised against spreadsheet formulas; the file is UTF-8 with a
 * byte-order mark so spreadsheets pick the right encoding. Every row is also counted by its code
 * (the cohort's rejections_by_reason); the codes are not written to the file, which stays as it was.
 */
export class RejectionWriter implements RejectionSink {
  private readonly out = new PassThrough();
  private readonly stored: Promise<{ bytes: number }>;
  private rows = 0;
  private readonly width: number;
  private readonly tally = new RejectionTally();

  constructor(
    blobs: BlobStore,
    readonly key: string,
    header: string[],
  ) {
    this.width = header.length;
    this.stored = blobs.put(key, this.out);
    // A failed put surfaces in finish(); until then keep the rejection from going unhandled.
    this.stored.catch(() => undefined);
    this.out.write('\ufeff');
    void this.writeLine([...header, 'rejected_reason']);
  }

  get count(): number {
    return this.rows;
  }

  /** The rows written so far, counted by code, the most frequent first. */
  get byReason(): RejectionsByReason[] {
    return this.tally.summary();
  }

  async add(rejection: RowRejection): Promise<void> {
    this.rows++;
    this.tally.add(rejection.code, rejection.row);
    const fitted = fitToHeader(rejection.fields, this.width, rejection.reason);
    await this.writeLine([...fitted.cells, fitted.reason]);
  }

  private async writeLine(cells: string[]): Promise<void> {
    const line = `${safeCsvLine(cells)}\r\n`;
    if (!this.out.write(line)) await new Promise((resolve) => this.out.once('drain', resolve));
  }

  async finish(): Promise<void> {
    this.out.end();
    await this.stored;
  }

  /** Drops the file: the put fails with a premature close and leaves nothing behind. */
  abort(): void {
    this.out.destroy();
  }
}
