// Which error codes each cohort route answers with: the OpenAPI document lists them, with examples.
import type { ErrorCode } from '../../../errors.js';
import { WRITE_ERROR_CODES } from '../../route-error-codes.js';

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

/**
 * Route → the codes it answers with beyond COMMON_ERROR_CODES, read from the intakes and services
 * (cohort-intake.ts, cohort-service.ts, url-source.ts, upload-parts.ts, csv-source.ts). A code a
 * service starts throwing must be added here: the test harness fails any suite whose requests get a
 * code their route does not list (test/helpers/test-app.ts).
 */
export const COHORT_ROUTE_ERRORS = {
  upload: UPLOAD_CODES,
  // The dry run refuses what /upload refuses, and what an upload's cohort would fail with later.
  // With POST /'s JSON instead of a form, the URL's refusals too, and a download that failed now.
  validate: [...UPLOAD_CODES, 'too_many_rows', 'source_url_refused', 'source_download_failed'],
  // Reads the header row only: what can be wrong with a form or with a header, never a config.
  mappingSuggestion: [...WRITE_ERROR_CODES, 'invalid_multipart', 'missing_file', 'invalid_csv', 'empty_header'],
  fromUrl: [...WRITE_ERROR_CODES, 'source_url_refused', ...PLAN_CODES],
  // The users' keys stand for a header: the config is planned against them as against a CSV's.
  stream: [...WRITE_ERROR_CODES, ...PLAN_CODES],
  list: [],
  get: [],
  files: ['storage_unavailable', 'erasure_in_progress'],
  // A DELETE may carry a body too (Fastify reads it), so it can be refused as any body can.
  delete: [...WRITE_ERROR_CODES],
} as const satisfies Record<string, readonly ErrorCode[]>;
