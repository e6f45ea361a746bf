import type { Selectable } from 'kysely';
import type { RowRejectionCode } from '../domain/ingest/row-rejection.js';
import type { JobClaim } from './repositories/jobs-repository.js';
import type { SeenPhones } from './seen-phones.js';
import type { ContactsTable } from './schema.js';

export type ContactRow = Selectable<ContactsTable>;

/** A data row that is not kept: its spreadsheet row, its fields as uploaded, and why (code and words). */
export interface RowRejection {
  row: number;
  fields: string[];
  code: RowRejectionCode;
  reason: string;
}

/** Where a load hands rejected rows, in row order (the cohort's rejection file, which counts them by code). */
export interface RejectionSink {
  add(rejection: RowRejection): Promise<void>;
}

/**
 * The job attempt a load writes for. Every write to `contacts` checks, in its own transaction,
 * that the attempt still holds the job (and renews its lease); once it does not, the write throws
 * LeaseLostError and changes nothing.
 */
export interface LoadFence {
  claim: JobClaim;
  leaseMs: number;
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
  /**
   * `beforeWrite`, when given, runs before each write the load makes after its last unit (SQLite's
   * moves of staged contacts) and throws to stop it: the disk reserve (ingest-cohort.ts), which
   * checks each unit before `add` already.
   */
  begin(
    cohortSeq: number,
    rejections: RejectionSink,
    fence: LoadFence,
    beforeWrite?: () => Promise<void>,
  ): Promise<ContactLoad>;
  /**
   * Removes every contact of the cohort: the clean slate an attempt starts from (fenced), or the
   * clean-up after a cohort failed for good (no fence: no attempt holds its job any more).
   */
  clear(cohortSeq: number, fence: LoadFence | undefined): Promise<void>;
}

/**
 * A unit's rows in row order as the staging tables hold them: (row_number, phone, user_identifier,
 * app_variables, app_overrides, fields as JSON, code, reason). A kept row has no code or reason; a
 * refused one has no contact columns. Staged rows keep their fields, so the rows of a phone seen
 * again later can be rejected as uploaded once the load knows the first row of each phone (PostgreSQL
 * stages every row; SQLite the rows from the first that breaks phone order). With `seen`, a kept row
 * whose phone is certainly new to the load has no fields (null): it cannot be a repeat.
 */
export type StagedRecord = [
  number,
  string | null,
  string | null,
  string | null,
  string | null,
  string | null,
  string | null,
  string | null,
];

export function stagedRecords(unit: LoadUnit, seen?: SeenPhones): StagedRecord[] {
  const records: StagedRecord[] = [];
  const rejections = new Map(unit.rejected.map((r) => [r.row, r]));
  let next = 0;
  unit.rows.forEach((fields, i) => {
    const row = unit.firstRow + i;
    const rejection = rejections.get(row);
    if (rejection !== undefined) {
      records.push([row, null, null, null, null, JSON.stringify(fields), rejection.code, rejection.reason]);
      return;
    }
    const contact = unit.accepted[next++];
    if (contact?.row_number !== row) throw new Error(`staging: row ${row} is neither accepted nor rejected`);
    records.push([
      row,
      contact.phone,
      contact.user_identifier,
      contact.app_variables,
      contact.app_overrides,
      seen === undefined || seen.mayRepeat(contact.phone) ? JSON.stringify(fields) : null,
      null,
      null,
    ]);
  });
  return records;
}

/** The code of a row that loses to an earlier row with the same phone. */
export const REPEAT_CODE = 'duplicate_phone' satisfies RowRejectionCode;

/** The reason a row loses to an earlier row with the same phone. */
export function repeatReason(phone: string, firstRow: number | undefined): string {
  return `phone ${phone} repeats row ${firstRow ?? '?'}; the first row is kept`;
}
