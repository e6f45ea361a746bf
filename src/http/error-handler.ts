import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, toEnvelope } from '../errors.js';
import { BlobStorageUnavailableError } from '../storage/blobs/blob-store.js';

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

/** Turns anything thrown in a request into the vendor's error envelope; the only place that does. */
export function toAppError(error: FastifyError | AppError | Error): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof BlobStorageUnavailableError) return new AppError('storage_unavailable');
  const fastifyError = error as FastifyError & { validationContext?: string };
  if (fastifyError.validation) {
    const details = validationDetails(fastifyError.validationContext, fastifyError.validation as ValidationIssue[]);
    const summary = details.map((d) => `${d.field} ${d.message}`).join('; ');
    return new AppError('validation_failed', `Request validation failed: ${summary}.`, details);
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', `${fastifyError.message}. Send application/json (or multipart/form-data where a route takes files).`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError('payload_too_large');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid_json', 'The request body is empty but Content-Type is application/json; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid_json', `The request body is not valid JSON: ${fastifyError.message}`);
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
  if (status >= 400 && status < 500) return new AppError('bad_request', error.message);
  if (status === 503) return new AppError('service_unavailable');
  return new AppError('internal_error');
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(error);
    if (appError.statusCode >= 500) {
      // The whole error goes to the log (with the request id); the client only gets the envelope.
      request.log.error({ err: error }, 'request failed');
    }
    void reply.headers(appError.headers).code(appError.statusCode).send(toEnvelope(appError));
  });
  app.setNotFoundHandler((request, reply) => {
    const appError = new AppError('route_not_found', `No route ${request.method} ${request.url.split('?')[0]}. See /docs for the API.`);
    void reply.code(404).send(toEnvelope(appError));
  });
}
