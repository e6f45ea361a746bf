import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, batchVendorStatus, toBatchVendorEnvelope, toEnvelope } from '../errors.js';
import { BlobStorageUnavailableError } from '../storage/blobs/blob-store.js';
import { isDatabaseUnavailable, isDiskFull } from '../storage/db-errors.js';

/** What a 503 tells clients to wait before retrying: a restarting database is usually back in seconds. */
export const RETRY_AFTER_SECONDS = 5;

/** The longest path segment the router matches; longer ones answer 414 uri_too_long in the envelope. */
export const MAX_PARAM_LENGTH = 500;

/**
 * A multipart body busboy cannot read: no boundary in the Content-Type, one its matcher refuses
 * (over 256 characters), or the body ends mid-part.
 */
const BROKEN_MULTIPART =
  /^Multipart: Boundary not found$|^The needle cannot have a length bigger than|Unexpected end of multipart data|terminated early due to unexpected end of multipart data/;

/**
 * Shows an error other than as the bare envelope: the web console renders a page, or the envelope
 * with its form's hints. Called with the status and headers set, after the classification and
 * logging here, which are the same for every route.
 */
export type ErrorRenderer = (request: FastifyRequest, reply: FastifyReply, error: AppError) => void;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How this route's errors are shown; unset, as the JSON envelope. */
    renderError?: ErrorRenderer;
  }
  interface FastifyRequest {
    /** The code of the error this request was answered with, if any (the audit trail records it). */
    errorCode: string | undefined;
  }
}

interface ValidationIssue {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

/** One entry per failing field: `{field: "/body/name", message}`. */
function validationDetails(context: string | undefined, issues: ValidationIssue[]) {
  return issues.map((issue) => {
    let field = `/${context ?? 'body'}${issue.instancePath}`;
    let message = issue.message ?? 'is invalid';
    if (issue.keyword === 'additionalProperties') {
      field += `/${String(issue.params.additionalProperty)}`;
      message = 'is not a known field';
    } else if (issue.keyword === 'required') {
      field += `/${String(issue.params.missingProperty)}`;
      message = 'is required';
    }
    return { field, message };
  });
}

/** Every 503 carries Retry-After, whoever raised it. */
function withRetryAfter(error: AppError): AppError {
  if (error.statusCode !== 503 || error.headers['retry-after'] !== undefined) return error;
  return new AppError(error.code, error.message, error.details, {
    ...error.headers,
    'retry-after': String(RETRY_AFTER_SECONDS),
  });
}

/** Turns anything thrown in a request into the vendor's error envelope; the only place that does. */
export function toAppError(error: FastifyError | AppError | Error): AppError {
  return withRetryAfter(classify(error));
}

function classify(error: FastifyError | AppError | Error): AppError {
  if (error instanceof AppError) return error;
  // Before the outage checks: a full disk is not cured by retrying in a few seconds.
  if (isDiskFull(error))
    return new AppError(
      'insufficient_storage',
      "The server's disk is full, so nothing of this request was kept. Retry later, once space has been freed.",
    );
  if (error instanceof BlobStorageUnavailableError) return new AppError('storage_unavailable');
  if (isDatabaseUnavailable(error))
    return new AppError(
      'service_unavailable',
      `The database is unavailable (unreachable, restarting or busy); retry in ${RETRY_AFTER_SECONDS} seconds.`,
    );
  if (BROKEN_MULTIPART.test(error.message)) {
    return new AppError(
      'invalid_multipart',
      /Boundary/.test(error.message)
        ? 'The multipart body cannot be read: the Content-Type header has no boundary. Send Content-Type: multipart/form-data; boundary=….'
        : /needle/.test(error.message)
          ? 'The multipart body cannot be read: the boundary in the Content-Type is too long (RFC 2046 allows 70 characters).'
          : 'The multipart body ended before its closing boundary (truncated upload); nothing was kept. Send the whole form again.',
    );
  }
  const fastifyError = error as FastifyError & { validationContext?: string };
  if (fastifyError.validation) {
    const details = validationDetails(fastifyError.validationContext, fastifyError.validation as ValidationIssue[]);
    const summary = details.map((d) => `${d.field} ${d.message}`).join('; ');
    return new AppError('validation_failed', `Request validation failed: ${summary}.`, details);
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(
        'unsupported_media_type',
        `${fastifyError.message}. Send application/json (or multipart/form-data where a route takes files).`,
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError('payload_too_large');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError(
        'invalid_json',
        'The request body is empty but Content-Type is application/json; send a JSON object.',
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid_json', `The request body is not valid JSON: ${fastifyError.message}`);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('uri_too_long', `A path segment is longer than ${MAX_PARAM_LENGTH} characters.`);
    case 'FST_ERR_BAD_URL':
      return new AppError('bad_request', 'The URL has a malformed path segment (for example a stray % escape).');
    // The multipart reader's own refusals, said in our words rather than the library's.
    case 'FST_PROTO_VIOLATION':
      return new AppError('forbidden_property', 'A form field is named __proto__, constructor or prototype.');
    case 'FST_FILES_LIMIT':
      return new AppError('payload_too_large', 'The form holds more files than this upload takes.');
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return new AppError('payload_too_large', 'The form holds more fields than this upload takes.');
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return new AppError('invalid_json', 'A form field sent as application/json is not valid JSON.');
    case 'FST_MP_PREMATURE_CLOSE':
      return new AppError(
        'invalid_multipart',
        'The upload was closed before the multipart body was complete; nothing was kept.',
      );
    default:
      break;
  }
  if (/forbidden prototype property|forbidden constructor property/i.test(error.message)) {
    return new AppError('forbidden_property');
  }
  if (error instanceof SyntaxError || fastifyError.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return new AppError('invalid_json', `The request body is not valid JSON: ${error.message}`);
  }
  const status = fastifyError.statusCode ?? 500;
  if (status === 413) return new AppError('payload_too_large');
  if (status === 404) return new AppError('not_found');
  if (status === 408) return new AppError('request_timeout');
  if (status === 414) return new AppError('uri_too_long');
  if (status === 431) return new AppError('request_header_too_large');
  if (status >= 400 && status < 500) return new AppError('bad_request', error.message);
  if (status === 503) return new AppError('service_unavailable');
  if (status === 507) return new AppError('insufficient_storage');
  return new AppError('internal_error');
}

/** The batch vendor's routes: their clients read its envelope (and its statuses), not the cohort vendor's. */
export function isBatchVendorPath(url: string): boolean {
  return /^\/api\/call(?:[/?#]|$)/.test(url);
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: Error, render?: ErrorRenderer): void {
  const appError = toAppError(error);
  request.errorCode = appError.code;
  if (appError.statusCode === 503 || appError.statusCode === 507) {
    // An outage or a full disk, not a bug: one short line per request, not a stack trace each.
    request.log.warn({ code: appError.code, err: error.message }, 'request refused: a dependency is unavailable');
  } else if (appError.statusCode >= 500) {
    // The whole error goes to the log (with the request id); the client only gets the envelope.
    request.log.error({ err: error }, 'request failed');
  }
  const batchVendor = !render && isBatchVendorPath(request.url);
  void reply.headers(appError.headers).code(batchVendor ? batchVendorStatus(appError) : appError.statusCode);
  if (render) render(request, reply, appError);
  else void reply.send(batchVendor ? toBatchVendorEnvelope(appError) : toEnvelope(appError));
}

/**
 * Fastify's `frameworkErrors`: the errors the router raises before a route is chosen (a path
 * segment over the length limit, a malformed escape) come out in the envelope too.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('x-request-id', request.id);
  sendError(request, reply, error);
}

const CLIENT_ERRORS: Record<string, AppError> = {
  HPE_HEADER_OVERFLOW: new AppError(
    'request_header_too_large',
    'The request headers are larger than the server accepts.',
  ),
  ERR_HTTP_REQUEST_TIMEOUT: new AppError('request_timeout'),
  ERR_HTTP_HEADERS_TIMEOUT: new AppError('request_timeout', 'The request headers were not received in time.'),
};

/**
 * The path of the request Node's parser refused, read from the bytes it had buffered (`rawPacket`,
 * which starts with the request line when the headers were the problem); undefined when they do
 * not start with one (a timeout, a body cut off after the headers were parsed).
 */
function refusedRequestPath(error: Error & { rawPacket?: unknown }): string | undefined {
  if (!Buffer.isBuffer(error.rawPacket)) return undefined;
  const line = error.rawPacket.subarray(0, 8192).toString('latin1').split('\r\n', 1)[0] ?? '';
  return /^[A-Z]+ (\/\S*) HTTP\/1\.[01]$/.exec(line)?.[1];
}

/**
 * Fastify's `clientErrorHandler` (Node's 'clientError'): a request Node's parser refused before it
 * reached Fastify (a body cut off or malformed, headers over the limit, a timeout). The answer is
 * written as raw HTTP, in the envelope, while the socket can still take it; then the socket closes.
 * The envelope is the batch vendor's when the request line Node kept names an /api/call path.
 */
export function clientErrorHandler(error: Error & { code?: string; rawPacket?: unknown }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const appError =
    CLIENT_ERRORS[error.code ?? ''] ??
    new AppError(
      'bad_request',
      'The request could not be read as HTTP: it is malformed or was cut off (a body shorter than its Content-Length).',
    );
  // Like Node's own handler: never write into a response that has already started.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const path = refusedRequestPath(error);
    const batchVendor = path !== undefined && isBatchVendorPath(path);
    const status = batchVendor ? batchVendorStatus(appError) : appError.statusCode;
    const body = JSON.stringify(batchVendor ? toBatchVendorEnvelope(appError) : toEnvelope(appError));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * A not-found handler answering 404 route_not_found, with `describe` saying what was not found;
 * a prefix that shows its errors otherwise (the console's pages) passes its renderer.
 */
export function notFoundHandler(describe: (request: FastifyRequest) => string, render?: ErrorRenderer) {
  return (request: FastifyRequest, reply: FastifyReply): void => {
    sendError(request, reply, new AppError('route_not_found', describe(request)), render);
  };
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.decorateRequest('errorCode', undefined);
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    sendError(request, reply, error, request.routeOptions.config?.renderError);
  });
  app.setNotFoundHandler(
    notFoundHandler((request) => `No route ${request.method} ${request.url.split('?')[0]}. See /docs for the API.`),
  );
}

/**
 * Fastify's own 503 for a request that arrives while the server drains (SIGTERM, a rolling
 * deploy) is outside the envelope; this one is inside it, with Retry-After. Registered before
 * every other hook, so a draining server does no work (no key lookup) for the request.
 */
export function refuseWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing)
      throw new AppError(
        'service_unavailable',
        'The server is shutting down; retry, and another instance (or this one, restarted) will answer.',
      );
  });
}
