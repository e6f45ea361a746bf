import type { FastifyRequest } from 'fastify';
import { fieldText, type UploadLimits, type UploadParts } from '../../services/upload-parts.js';
import { uploadParts } from '../upload-request.js';
import { checkCsrfToken, CSRF_FIELD } from './console-security.js';
import { sessionOf } from './console-request.js';
import type { FormValue } from './console-schemas.js';

/**
 * A console multipart form's parts for an intake, under its limits; undefined when the form is not
 * multipart. Without an X-CSRF-Token header (a form posted without JavaScript) the first part must
 * be the _csrf field, so no file is stored before the token is known to be right; the token field
 * itself is not handed on.
 */
export function consoleUploadParts(request: FastifyRequest, limits: UploadLimits): UploadParts | undefined {
  const session = sessionOf(request);
  const parts = uploadParts(request, limits);
  return parts && tokenCheckedParts(parts, request.csrfChecked, session.csrfToken);
}

async function* tokenCheckedParts(parts: UploadParts, checked: boolean, csrfToken: string): UploadParts {
  let tokenSeen = checked;
  for await (const part of parts) {
    if (!tokenSeen) {
      checkCsrfToken(part.type === 'field' && part.fieldname === CSRF_FIELD ? fieldText(part) : undefined, csrfToken);
      tokenSeen = true;
      continue;
    }
    if (part.type === 'field' && part.fieldname === CSRF_FIELD) continue;
    yield part;
  }
  if (!tokenSeen) checkCsrfToken(undefined, csrfToken);
}

/** A form field as text: its last value when repeated, '' when absent. */
export function formText(value: FormValue): string {
  return (Array.isArray(value) ? value[value.length - 1] : value) ?? '';
}
