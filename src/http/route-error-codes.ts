// The error codes a route answers with: the OpenAPI document lists them per route, each with an
// example envelope, and the test harness fails a suite whose app answers a code its route does not list.
import type { ErrorCode } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Every code this route can answer with (routeErrorCodes adds the common ones). */
    errorCodes?: readonly ErrorCode[];
  }
}

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

/** The codes a route documents: the common ones and its own, once each. */
export function routeErrorCodes(own: readonly ErrorCode[]): ErrorCode[] {
  return [...new Set([...COMMON_ERROR_CODES, ...own])];
}
