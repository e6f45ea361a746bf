import { Type, type TSchema } from '@sinclair/typebox';
import { HEX24_PATTERN, SLUG_PATTERN } from '../domain/tenancy/ids.js';

/** The vendor's error envelope; every error response in the OpenAPI document uses it. */
export const ErrorEnvelopeSchema = Type.Object(
  {
    error: Type.Object({
      message: Type.String({ description: 'What went wrong and what to do about it, for a person.' }),
      type: Type.String({
        description: 'Broad class: invalid_request_error, authentication_error, not_found_error, …',
      }),
      code: Type.String({ description: 'Stable machine-readable code from the catalogue (see README).' }),
      data: Type.Object({ details: Type.Unknown({ description: 'Code-specific details, e.g. every failing field.' }) }),
    }),
  },
  { title: 'Error' },
);

/** The batch vendor's envelope, which every error on /api/call uses (its clients read this shape). */
export const BatchVendorErrorSchema = Type.Object(
  {
    message: Type.String({ description: 'What kind of error, for a person.' }),
    status: Type.Literal(false),
    code: Type.Integer({ description: 'The HTTP status, repeated.' }),
    errorMessage: Type.String({ description: 'What went wrong and what to do about it, for a person.' }),
    data: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code from the catalogue (see README).' }),
      details: Type.Unknown({ description: 'Code-specific details, e.g. every failing field.' }),
    }),
  },
  { title: 'BatchVendorError' },
);

export const SlugId = (description: string) => Type.String({ pattern: SLUG_PATTERN, description });
export const Hex24Id = (description: string) => Type.String({ pattern: HEX24_PATTERN, description });
export const Timestamp = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });

export const PageQuerySchema = Type.Object(
  {
    offset: Type.Integer({ minimum: 0, default: 0, description: 'Items to skip' }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'Items per page (1–100)' }),
  },
  { additionalProperties: false },
);

/** The list envelope shared by every collection: the cohort API's shape. */
export function PageOf<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    total: Type.Integer(),
    limit: Type.Integer(),
    offset: Type.Integer(),
    next_page_uri: Type.Union([Type.String(), Type.Null()]),
    prev_page_uri: Type.Union([Type.String(), Type.Null()]),
  });
}

export const DeletedSchema = Type.Object({ deleted: Type.Literal(true), id: Type.String() });
