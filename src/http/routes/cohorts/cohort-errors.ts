// Which error codes each cohort route answers with: the OpenAPI document lists them, with examples.
import type { ErrorCode } from '../../../errors.js';

/** Every authenticated API route: the key, the schema, the id, the rate budget, the database. */
export const COMMON_ERROR_CODES: readonly ErrorCode[] = [
  'unauthorized',
  'validation_failed',
  'not_found',
  'rate_limited',
  'internal_error',
  'service_unavailable',
];

/** Every route with a body: it can be malformed, too large, slow or of another type, and it can fill the disk. */
export const WRITE_ERROR_CODES: readonly ErrorCode[] = [
  'invalid_json',
  'request_timeout',
  'forbidden_property',
  'payload_too_large',
  'unsupported_media_type',
  'insufficient_storage',
  'storage_unavailable',
];

/** The blocking problems an ingest plan finds in a config against a CSV header (domain/ingest/ingest-plan.ts). */
const PLAN_CODES: readonly ErrorCode[] = [
  'invalid_transformation',
  'column_not_found',
  'unknown_app_variable',
  'unknown_app_override',
  'required_variable_not_mapped',
  'duplicate_header',
  'empty_header',
  'too_many_columns',
];

/**
 * Route → the codes it answers with beyond COMMON_ERROR_CODES, read from the intakes and services
 * (cohort-intake.ts, cohort-service.ts, url-source.ts, upload-parts.ts, csv-source.ts). Kept by hand:
 * a code a service starts throwing must be added here (test/http/openapi.test.ts checks the list
 * against the document and the catalogue, not against the code that throws).
 */
/** What a multipart cohort upload can be refused for, before anything is stored. */
const UPLOAD_CODES: readonly ErrorCode[] = [
  ...WRITE_ERROR_CODES,
  'invalid_multipart',
  'missing_file',
  'file_too_large',
  'invalid_csv',
  'no_data_rows',
  ...PLAN_CODES,
];

export const COHORT_ROUTE_ERRORS = {
  upload: UPLOAD_CODES,
  // The dry run refuses what /upload refuses, and what an upload's cohort would fail with later.
  validate: [...UPLOAD_CODES, 'too_many_rows'],
  // Reads the header row only: what can be wrong with a form or with a header, never a config.
  mappingSuggestion: [...WRITE_ERROR_CODES, 'invalid_multipart', 'missing_file', 'invalid_csv', 'empty_header'],
  fromUrl: [...WRITE_ERROR_CODES, 'source_url_refused', ...PLAN_CODES],
  stream: [...WRITE_ERROR_CODES],
  list: [],
  get: [],
  files: ['storage_unavailable'],
  delete: ['storage_unavailable'],
} as const satisfies Record<string, readonly ErrorCode[]>;

/** The codes a route documents: the common ones and its own, once each. */
export function routeErrorCodes(own: readonly ErrorCode[]): ErrorCode[] {
  return [...new Set([...COMMON_ERROR_CODES, ...own])];
}
