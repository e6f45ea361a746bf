/**
 * The one catalogue of error codes Roster answers with. Codes are stable: clients branch on them,
 * so a code is never renamed or reused for another meaning. README and OpenAPI list them from here.
 */
export const ERROR_CATALOGUE = {
  validation_failed: { status: 422, type: 'invalid_request_error', message: 'The request does not match the schema.' },
  invalid_json: { status: 400, type: 'invalid_request_error', message: 'The request body is not valid JSON.' },
  forbidden_property: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The request body contains a forbidden property name (__proto__ or constructor).',
  },
  unsupported_media_type: { status: 415, type: 'invalid_request_error', message: 'Unsupported Content-Type.' },
  payload_too_large: { status: 413, type: 'invalid_request_error', message: 'The request body is too large.' },
  bad_request: { status: 400, type: 'invalid_request_error', message: 'The request is malformed.' },
  invalid_multipart: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The multipart body cannot be read (no boundary in the Content-Type, or cut off before its end).',
  },
  request_timeout: { status: 408, type: 'invalid_request_error', message: 'The request was not received in time.' },
  uri_too_long: {
    status: 414,
    type: 'invalid_request_error',
    message: 'A path segment of the URL is longer than allowed.',
  },
  request_header_too_large: {
    status: 431,
    type: 'invalid_request_error',
    message: 'The request headers are larger than allowed.',
  },
  unauthorized: {
    status: 401,
    type: 'authentication_error',
    message: 'Missing or invalid API key. Send it as X-API-Key: <key> or Authorization: Bearer <key>.',
  },
  admin_key_required: { status: 403, type: 'permission_error', message: 'This operation needs the master key.' },
  csrf_rejected: {
    status: 403,
    type: 'permission_error',
    message: 'A web console form came without its security token or from another site.',
  },
  not_found: { status: 404, type: 'not_found_error', message: 'Not found.' },
  route_not_found: { status: 404, type: 'not_found_error', message: 'No such route.' },
  already_exists: { status: 409, type: 'conflict_error', message: 'A resource with this id already exists.' },
  in_use: { status: 409, type: 'conflict_error', message: 'The resource is still in use.' },
  caller_rejected: {
    status: 422,
    type: 'invalid_request_error',
    message: 'The caller was refused by the rules a row of a cohort file follows.',
  },
  webhook_url_refused: {
    status: 422,
    type: 'invalid_request_error',
    message: 'The webhook URL is not one Roster calls (http or https, public addresses only).',
  },
  erasure_in_progress: {
    status: 409,
    type: 'conflict_error',
    message: "An erasure request is rewriting this cohort's files; download them again in a few seconds.",
  },
  delivery_pending: {
    status: 409,
    type: 'conflict_error',
    message: 'The webhook delivery is still pending; it can be sent again once it has succeeded or failed.',
  },
  idempotency_in_progress: {
    status: 409,
    type: 'conflict_error',
    message: 'A request with this Idempotency-Key is still being handled.',
  },
  idempotency_key_reused: {
    status: 422,
    type: 'invalid_request_error',
    message: 'This Idempotency-Key was used for a different request.',
  },
  // Cohort uploads: blocking problems refuse the whole upload (nothing is kept).
  invalid_transformation: {
    status: 422,
    type: 'invalid_request_error',
    message: 'The transformation config is not valid.',
  },
  column_not_found: {
    status: 422,
    type: 'invalid_request_error',
    message: 'A column named in the transformation config is not in the CSV header.',
  },
  unknown_app_variable: {
    status: 422,
    type: 'invalid_request_error',
    message: "An app_variables key is not one of the agent's variables.",
  },
  unknown_app_override: {
    status: 422,
    type: 'invalid_request_error',
    message: 'An app_overrides key is not one of initial_bot_message, initial_state_name, initial_language_name.',
  },
  required_variable_not_mapped: {
    status: 422,
    type: 'invalid_request_error',
    message: 'A required agent variable has no mapping in app_variables.',
  },
  duplicate_header: { status: 422, type: 'invalid_request_error', message: 'The CSV header names a column twice.' },
  empty_header: {
    status: 422,
    type: 'invalid_request_error',
    message: 'The CSV header has an empty column name, or there is no header.',
  },
  too_many_columns: { status: 422, type: 'invalid_request_error', message: 'The CSV has more columns than allowed.' },
  no_data_rows: { status: 422, type: 'invalid_request_error', message: 'The CSV has a header but no data row.' },
  invalid_csv: { status: 422, type: 'invalid_request_error', message: 'The file cannot be read as CSV.' },
  too_many_rows: { status: 422, type: 'invalid_request_error', message: 'The CSV has more data rows than allowed.' },
  file_too_large: { status: 413, type: 'invalid_request_error', message: 'The uploaded file is larger than allowed.' },
  source_url_refused: {
    status: 422,
    type: 'invalid_request_error',
    message: 'The source URL is not allowed: only http(s) to public addresses, with at most 3 redirects.',
  },
  source_download_failed: {
    status: 422,
    type: 'invalid_request_error',
    message: 'The source URL could not be downloaded.',
  },
  missing_file: {
    status: 422,
    type: 'invalid_request_error',
    message: 'A required file part is missing from the multipart form.',
  },
  invalid_phone_number: {
    status: 422,
    type: 'invalid_request_error',
    message: 'The phone number cannot be normalised to E.164.',
  },
  processing_failed: { status: 500, type: 'server_error', message: 'Processing failed after repeated attempts.' },
  // Batch uploads follow the vendor's statuses: 400 for a malformed request or file, 404 for what
  // the ids point at, 422 for invalid rows when type="false".
  invalid_batch_field: {
    status: 400,
    type: 'invalid_request_error',
    message: 'A batch form field is missing or malformed.',
  },
  unsupported_file_type: { status: 400, type: 'invalid_request_error', message: 'Upload a .csv, .xlsx or .xls file.' },
  empty_file: { status: 400, type: 'invalid_request_error', message: 'The file is empty or has no header row.' },
  missing_columns: { status: 400, type: 'invalid_request_error', message: 'The file lacks required columns.' },
  no_valid_rows: { status: 400, type: 'invalid_request_error', message: 'The file has no valid row.' },
  invalid_spreadsheet: { status: 400, type: 'invalid_request_error', message: 'The spreadsheet cannot be read.' },
  spreadsheet_too_large: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The spreadsheet is larger than allowed (rows, columns, or uncompressed size).',
  },
  invalid_rows: { status: 422, type: 'invalid_request_error', message: 'Some rows are invalid; nothing was imported.' },
  no_calls_added: {
    status: 400,
    type: 'invalid_request_error',
    message: 'No call was added: every chunk of callData failed.',
  },
  // Batch details: the vendor documents 400 for a malformed id, filter or query parameter.
  invalid_batch_id: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The batch id is not valid (24 hexadecimal characters).',
  },
  invalid_filter: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The filter is not a JSON object of call fields to values.',
  },
  invalid_query: {
    status: 400,
    type: 'invalid_request_error',
    message: 'A query parameter is malformed or out of range.',
  },
  user_not_found: { status: 404, type: 'not_found_error', message: 'User not found.' },
  calling_numbers_not_found: {
    status: 404,
    type: 'not_found_error',
    message: 'No agent found for the calling numbers.',
  },
  agent_language_missing: { status: 404, type: 'not_found_error', message: 'The agent has no language configured.' },
  lease_not_held: {
    status: 409,
    type: 'conflict_error',
    message: 'The call is not leased under this lease id (it expired or was never granted).',
  },
  invalid_state: { status: 409, type: 'conflict_error', message: 'The batch is not in a state that allows this.' },
  rate_limited: { status: 429, type: 'rate_limit_error', message: 'Too many requests.' },
  internal_error: { status: 500, type: 'server_error', message: 'Internal server error.' },
  service_unavailable: { status: 503, type: 'server_error', message: 'The service is temporarily unavailable.' },
  storage_unavailable: { status: 503, type: 'server_error', message: 'Object storage is unavailable; retry later.' },
  insufficient_storage: {
    status: 507,
    type: 'server_error',
    message: "The server's disk is full; nothing was kept. Retry later.",
  },
} as const satisfies Record<string, { status: number; type: string; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** An error a client can act on: a stable code, an HTTP status from the catalogue and optional details. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly type: string;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message?: string, details?: unknown, headers: Record<string, string> = {}) {
    const entry = ERROR_CATALOGUE[code];
    super(message ?? entry.message);
    this.name = 'AppError';
    this.code = code;
    this.statusCode = entry.status;
    this.type = entry.type;
    this.details = details ?? null;
    this.headers = headers;
  }
}

/** The vendor's error envelope. */
export interface ErrorEnvelope {
  error: { message: string; type: string; code: string; data: { details: unknown } };
}

export function toEnvelope(error: AppError): ErrorEnvelope {
  return { error: { message: error.message, type: error.type, code: error.code, data: { details: error.details } } };
}

/**
 * The batch vendor's envelope, which its clients read on every /api/call route: `code` repeats the
 * HTTP status and `status` is false; Roster's stable code and details ride in `data`.
 */
export interface BatchVendorErrorEnvelope {
  message: string;
  status: false;
  code: number;
  errorMessage: string;
  data: { code: ErrorCode; details: unknown };
}

/**
 * The HTTP status an error answers with on the batch vendor's routes: the vendor documents 403 for a
 * missing or wrong key and 400 for a request that fails validation; every other code keeps its own.
 */
export function batchVendorStatus(error: AppError): number {
  if (error.code === 'unauthorized') return 403;
  if (error.code === 'validation_failed') return 400;
  return error.statusCode;
}

export function toBatchVendorEnvelope(error: AppError): BatchVendorErrorEnvelope {
  return {
    message: ERROR_CATALOGUE[error.code].message,
    status: false,
    code: batchVendorStatus(error),
    errorMessage: error.message,
    data: { code: error.code, details: error.details },
  };
}
