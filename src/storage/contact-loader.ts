import type { Selectable } from 'kysely';
import type { ContactsTable } from './schema.js';

export type ContactRow = Selectable<ContactsTable>;

/** A data row that is not kept: its fields as uploaded, and why. */
export interface RowRejection {
  row: number;
  fields: string[];
  reason: string;
}

/** Where a load hands rejected rows, in row order (the cohort's rejection file). */
export interface RejectionSink {
  add(fields: string[], reason: string): Promise<void>;
}

/** One unit of transformed rows, in file order. */
export interface LoadUnit {
  /** The spreadsheet row of the unit's first record (the header is row 1). */
  firstRow: number;
  /** The unit's fields as uploaded, one array per row. */
  rows: string[][];
  accepted: ContactRow[];
  /** Rows the transformer refused, in row order. */
  rejected: RowRejection[];
}

/** One attempt at loading one cohort's contacts. */
export interface ContactLoad {
  add(unit: LoadUnit): Promise<void>;
  /**
   * Ends the load: the first row of each phone is written as a contact (later ones are rejected as
   * repeats) and every rejection has reached the sink in row order. Returns the contacts written.
   * The contacts stay invisible until the cohort is published.
   */
  finish(): Promise<number>;
  /** Gives up; what was written is removed by the next attempt's clear(). */
  abort(): Promise<void>;
}

/** Writes many contacts each backend's fastest way. */
export interface ContactLoader {
  begin(cohortSeq: number, rejections: RejectionSink): Promise<ContactLoad>;
  /** Removes every contact of the cohort: the clean slate an attempt starts from. */
  clear(cohortSeq: number): Promise<void>;
}

/** The reason a row loses to an earlier row with the same phone. */
export function repeatReason(phone: string, firstRow: number | undefined): string {
  return `phone ${phone} repeats row ${firstRow ?? '?'}; the first row is kept`;
}
