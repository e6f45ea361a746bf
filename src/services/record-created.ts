import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';

/**
 * Called by a create in the transaction that creates its resource, with what the create answers
 * from (a cohort's view, a batch's id): a request sent with an Idempotency-Key records there the
 * answer a repeat gives if the process dies before answering (http/plugins/idempotency.ts). It
 * throws, rolling the create back, when the key is no longer this request's.
 */
export type RecordCreated<T> = (trx: Kysely<Database>, created: T) => Promise<void>;
