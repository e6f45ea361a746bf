import type { Selectable } from 'kysely';
import type { ContactsTable } from './schema.js';

export type ContactRow = Selectable<ContactsTable>;

/**
 * Bulk-writes one cohort's contacts, skipping phones the cohort already holds; returns the row
 * numbers written (the others repeat an earlier row). Each backend does this its fastest way.
 */
export interface ContactWriter {
  insert(rows: ContactRow[]): Promise<Set<number>>;
}
