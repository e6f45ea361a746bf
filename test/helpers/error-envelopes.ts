import assert from 'node:assert/strict';

/** An error as either envelope carries it: code, message and details. */
export interface ErrorParts {
  code: string;
  message: string;
  details: unknown;
}

/**
 * The batch vendor's error envelope, which every /api/call route answers with, checked for its
 * shape (`status: false`, `code` the HTTP status) and read into code, message and details.
 */
export function batchVendorError(body: unknown, httpStatus?: number): ErrorParts {
  const envelope = body as {
    message: unknown;
    status: unknown;
    code: unknown;
    errorMessage: unknown;
    data: { code: string; details: unknown };
  };
  assert.equal(envelope.status, false, JSON.stringify(body));
  assert.equal(typeof envelope.message, 'string', JSON.stringify(body));
  assert.equal(typeof envelope.errorMessage, 'string', JSON.stringify(body));
  if (httpStatus !== undefined) assert.equal(envelope.code, httpStatus, JSON.stringify(body));
  assert.equal(typeof envelope.data?.code, 'string', JSON.stringify(body));
  return { code: envelope.data.code, message: String(envelope.errorMessage), details: envelope.data.details };
}

/** Reads either envelope: the cohort vendor's `{error: {…}}`, or the batch vendor's on /api/call. */
export function anyError(body: unknown): ErrorParts {
  const cohort = (body as { error?: { code: string; message: string; data: { details: unknown } } }).error;
  if (cohort) return { code: cohort.code, message: cohort.message, details: cohort.data.details };
  return batchVendorError(body);
}
