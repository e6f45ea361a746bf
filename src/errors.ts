/**
 * The one catalogue of error codes Roster answers with. Codes are stable: clients branch on them,
 * so a code is never renamed or reused for another meaning. README and OpenAPI list them from here.
 */
export const ERROR_CATALOGUE = {
  validation_failed: { status: 422, type: 'invalid_request_error', message: 'The request does not match the schema.' },
  invalid_json: { status: 400, type: 'invalid_request_error', message: 'The request body is not valid JSON.' },
  forbidden_property: { status: 400, type: 'invalid_request_error', message: 'The request body contains a forbidden property name (__proto__ or constructor).' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error', message: 'Unsupported Content-Type.' },
  payload_too_large: { status: 413, type: 'invalid_request_error', message: 'The request body is too large.' },
  bad_request: { status: 400, type: 'invalid_request_error', message: 'The request is malformed.' },
  unauthorized: { status: 401, type: 'authentication_error', message: 'Missing or invalid API key. Send it as X-API-Key: <key> or Authorization: Bearer <key>.' },
  admin_key_required: { status: 403, type: 'permission_error', message: 'This operation needs the master key.' },
  not_found: { status: 404, type: 'not_found_error', message: 'Not found.' },
  route_not_found: { status: 404, type: 'not_found_error', message: 'No such route.' },
  already_exists: { status: 409, type: 'conflict_error', message: 'A resource with this id already exists.' },
  in_use: { status: 409, type: 'conflict_error', message: 'The resource is still in use.' },
  rate_limited: { status: 429, type: 'rate_limit_error', message: 'Too many requests.' },
  internal_error: { status: 500, type: 'server_error', message: 'Internal server error.' },
  service_unavailable: { status: 503, type: 'server_error', message: 'The service is temporarily unavailable.' },
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
