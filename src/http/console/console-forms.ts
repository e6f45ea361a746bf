import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import { checkCsrfToken, CSRF_FIELD } from './console-security.js';
import { sessionOf } from './console-request.js';

export interface PartHandlers {
  field(name: string, value: string): void;
  /** Consumes (streams) the file; must read or resume it. */
  file(part: MultipartFile): Promise<void>;
}

/**
 * Streams a console multipart form part by part. Without an X-CSRF-Token header (a form posted
 * without JavaScript) the first part must be the _csrf field, so no file is stored before the
 * token is known to be right.
 */
export async function readFormParts(request: FastifyRequest, fileSize: number, handlers: PartHandlers): Promise<void> {
  const session = sessionOf(request);
  if (!request.isMultipart()) throw new AppError('unsupported_media_type', 'Send the form as multipart/form-data.');
  let checked = request.csrfChecked;
  for await (const part of request.parts({ limits: { fileSize } })) {
    if (!checked) {
      checkCsrfToken(part.type === 'field' && part.fieldname === CSRF_FIELD ? String(part.value) : undefined, session.csrfToken);
      checked = true;
      continue;
    }
    if (part.type === 'field') {
      if (part.fieldname !== CSRF_FIELD) handlers.field(part.fieldname, String(part.value));
    } else {
      await handlers.file(part);
    }
  }
  if (!checked) checkCsrfToken(undefined, session.csrfToken);
}

/** A urlencoded form's fields: a string each, or a list when the name repeats. */
export function formFields(request: FastifyRequest): Record<string, string | string[]> {
  const body = request.body;
  return body !== null && typeof body === 'object' ? (body as Record<string, string | string[]>) : {};
}

/** One field as text: its last value when repeated, '' when absent. */
export function formText(body: Record<string, string | string[]>, name: string): string {
  const value = body[name];
  return (Array.isArray(value) ? value[value.length - 1] : value) ?? '';
}
