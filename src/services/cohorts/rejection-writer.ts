import { PassThrough } from 'node:stream';
import { safeCsvLine } from '../../domain/ingest/csv-cells.js';
import type { BlobStore } from '../../storage/blobs/blob-store.js';

/**
 * Streams the rejection file into object storage: the original header plus `rejected_reason`, then
 * each failed row as uploaded. Every cell is neutralised against spreadsheet formulas; the file is
 * UTF-8 with a byte-order mark so spreadsheets pick the right encoding.
 */
export class RejectionWriter {
  private readonly out = new PassThrough();
  private readonly stored: Promise<{ bytes: number }>;
  private rows = 0;

  constructor(blobs: BlobStore, readonly key: string, header: string[]) {
    this.stored = blobs.put(key, this.out);
    // A failed put surfaces in finish(); until then keep the rejection from going unhandled.
    this.stored.catch(() => undefined);
    this.out.write('\ufeff');
    void this.writeLine([...header, 'rejected_reason']);
  }

  get count(): number {
    return this.rows;
  }

  async add(fields: string[], reason: string): Promise<void> {
    this.rows++;
    await this.writeLine([...fields, reason]);
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
