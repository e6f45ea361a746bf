import type { Readable } from 'node:stream';
import { AppError } from '../errors.js';

/**
 * One part of a multipart form, as the HTTP layer reads it. Structural on purpose: the parts
 * @fastify/multipart yields fit as they are, so intakes take forms without depending on Fastify.
 */
export type UploadPart =
  | { type: 'field'; fieldname: string; value: unknown }
  | { type: 'file'; fieldname: string; filename: string; file: Readable };

/** A form's parts in the order they were sent, streamed: a file part must be read or skipped before the next. */
export type UploadParts = AsyncIterable<UploadPart>;

/** Who filled the form in, which decides how strictly it is read and how refusals are worded. */
export type FormSource =
  /** A client of the vendor-compatible API: unknown parts are refused, as the vendor's API does. */
  | 'api'
  /** The web console's form: its own extra controls and empty file inputs are ignored; messages speak to a person. */
  | 'browser';

/** What the multipart reader may take in one request (busboy's limits). */
export interface UploadLimits {
  fileSize: number;
  files: number;
  fields: number;
  fieldSize: number;
  parts: number;
  headerPairs?: number;
}

/** The refusal of a request that is not multipart at all, saying what to send (`apiParts`: what the API's form holds). */
export function notMultipart(source: FormSource, apiParts: string): AppError {
  return new AppError(
    'unsupported_media_type',
    source === 'api' ? `Send multipart/form-data with ${apiParts}.` : 'Send the form as multipart/form-data.',
  );
}

/**
 * Whether the multipart reader stopped a file at its size limit. @fastify/multipart (with
 * throwFileSizeLimit) raises this code; each intake turns it into its own file_too_large.
 */
function isFileOverLimit(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'FST_REQ_FILE_TOO_LARGE';
}

/** Reads a file part nobody takes to its end, so the parser can reach the next part. */
export function skipFile(part: UploadPart): void {
  if (part.type === 'file') part.file.resume();
}

/** A field's value as text (the reader hands fields over as strings already). */
export function fieldText(part: { value: unknown }): string {
  return String(part.value);
}

/**
 * The client-facing refusal an upload failure stands for: the intake's own file_too_large for a file
 * over the limit, a 4xx AppError as it is; undefined for anything else (an outage, a bug), which
 * the error handler answers.
 */
export function uploadRefusal(error: unknown, fileTooLarge: () => AppError): AppError | undefined {
  if (isFileOverLimit(error)) return fileTooLarge();
  return error instanceof AppError && error.statusCode < 500 ? error : undefined;
}
