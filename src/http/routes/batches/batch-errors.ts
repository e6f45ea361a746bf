// Which error codes each batch-vendor route (/api/call) answers with: the OpenAPI document lists them,
// with examples, under the vendor's statuses.
import type { ErrorCode } from '../../../errors.js';
import { WRITE_ERROR_CODES } from '../../route-error-codes.js';

/**
 * What a request with a body can be refused for. Fastify reads a body on every method but GET and
 * HEAD, so a POST or DELETE that takes none (pause, remove a number) can answer these too. Not
 * storage_unavailable: batches keep nothing in object storage (BatchDeps has no blob store).
 */
const BODY_CODES: readonly ErrorCode[] = WRITE_ERROR_CODES.filter((code) => code !== 'storage_unavailable');

/**
 * What reading a batch or do-not-call form can be refused for (upload-file.ts, upload-parts.ts,
 * error-handler.ts): a body busboy cannot read, a part over the parts/files/fields limits (413
 * payload_too_large), a part named `constructor` or `__proto__` (forbidden_property), a part sent as
 * application/json that does not parse (invalid_json), an unknown or missing field, and bad_request
 * for any other 4xx @fastify/multipart raises on its own.
 */
const FORM_CODES: readonly ErrorCode[] = [...BODY_CODES, 'invalid_multipart', 'bad_request', 'invalid_batch_field'];

/** What a stored sheet can be refused for (sheet-source.ts, sheet-records.ts, the .xlsx/.xls readers, zip-guard.ts). */
const SHEET_CODES: readonly ErrorCode[] = [
  'unsupported_file_type',
  'invalid_spreadsheet',
  'spreadsheet_too_large',
  'empty_file',
];

/** The fields of a new batch and what they point at (batch-fields.ts parseBatchFields, batch-upload-service.ts resolveTarget). */
const NEW_BATCH_CODES: readonly ErrorCode[] = [
  'invalid_batch_field',
  'user_not_found',
  'calling_numbers_not_found',
  'agent_language_missing',
];

/** Pause, resume and cancel: a batch the key cannot reach is not_found, one in the wrong status invalid_state. */
const STATUS_CHANGE_CODES: readonly ErrorCode[] = [...BODY_CODES, 'invalid_state'];

/**
 * Route → the codes it answers with beyond COMMON_ERROR_CODES, read from the intakes and services
 * (batch-intake.ts, batch-upload-service.ts, batch-json-service.ts, batch-service.ts, batch-access.ts,
 * call-query.ts, dialer-service.ts, dnc-intake.ts, dnc-service.ts, sheet-source.ts, upload-parts.ts)
 * and the routes themselves. A code a service starts throwing must be added here: the test harness
 * fails any suite whose requests get a code their route does not list (test/helpers/test-app.ts).
 */
export const BATCH_ROUTE_ERRORS = {
  upload: [
    ...FORM_CODES,
    'file_too_large',
    ...SHEET_CODES,
    ...NEW_BATCH_CODES,
    'missing_columns',
    'invalid_rows',
    'no_valid_rows',
  ],
  // A malformed query parameter answers invalid_query (attachValidation), not validation_failed.
  details: ['invalid_batch_id', 'invalid_query', 'invalid_filter'],
  list: [],
  createBatch: [...BODY_CODES, ...NEW_BATCH_CODES],
  addCallsToBatch: [...BODY_CODES, 'invalid_state', 'no_calls_added'],
  // A user with no batch (or none matching the search) is not_found.
  userBatches: ['user_not_found'],
  pause: STATUS_CHANGE_CODES,
  resume: STATUS_CHANGE_CODES,
  cancel: STATUS_CHANGE_CODES,
  dialerLease: [...BODY_CODES],
  dialerReport: [...BODY_CODES, 'lease_not_held'],
  dncList: [],
  dncAdd: [...BODY_CODES],
  // A file over the limit is the generic payload_too_large here, not the batch upload's file_too_large.
  dncUpload: [...FORM_CODES, ...SHEET_CODES],
  dncRemove: [...BODY_CODES, 'invalid_phone_number'],
} as const satisfies Record<string, readonly ErrorCode[]>;
