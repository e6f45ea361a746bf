import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import {
  AppError,
  batchVendorStatus,
  ERROR_CATALOGUE,
  type ErrorCode,
  toBatchVendorEnvelope,
  toEnvelope,
} from '../../errors.js';
import '../route-error-codes.js';
import { isBatchVendorPath } from '../error-handler.js';
import { BatchVendorErrorSchema, ErrorEnvelopeSchema } from '../schemas.js';

const STANDARD_ERRORS = [400, 401, 404, 413, 415, 422, 429, 500, 503] as const;
/** The batch vendor's routes answer 403 for a missing or wrong key and 400 for a failed validation. */
const BATCH_VENDOR_ERRORS = [400, 403, 404, 413, 415, 422, 429, 500, 503] as const;
/** Only a write can fill the disk. */
const WRITE_ERRORS = [507] as const;
const PUBLIC_ERRORS = [500] as const;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request (invalid JSON, forbidden property names)',
  401: 'Missing, invalid or revoked API key',
  403: 'The operation needs the master key',
  404: 'Not found, or not reachable with this key',
  409: 'Conflict: the id exists already, or the resource is in use',
  413: 'Request body too large',
  415: 'Unsupported Content-Type',
  422: 'The request does not match the schema; every failing field is listed in details',
  429: 'Rate limit exceeded; see Retry-After',
  500: 'Internal error (no internals are disclosed)',
  503: 'The database or object storage is unavailable; retry after the Retry-After seconds',
  507: "The server's disk is full; nothing was kept, retry later",
};

const BATCH_VENDOR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request, or it does not match the schema (every failing field is listed in data.details)',
  403: 'Missing, invalid or revoked API key',
  422: 'The request was read but cannot be done as asked (on an upload with type="false": rows of the file are invalid, each listed in data.details)',
};

function errorResponse(status: number, batchVendor: boolean) {
  if (batchVendor)
    return {
      ...BatchVendorErrorSchema,
      description: BATCH_VENDOR_DESCRIPTIONS[status] ?? ERROR_DESCRIPTIONS[status] ?? 'Error',
    };
  return { ...ErrorEnvelopeSchema, description: ERROR_DESCRIPTIONS[status] ?? 'Error' };
}

/** The vendor's prefix: its routes answer exactly as under /v1, so only the /v1 ones are documented. */
export const VENDOR_DUPLICATE_PREFIX = '/api/scheduling/v1/';

/** Example ids of the demo tenant the first start creates (org demo, workspace default, deployment demo). */
const DEMO_COHORT_ID = 'coh-pjd0f97m39ir';

/** A real envelope for a code, as the error handler would send it on this route, with the demo tenant's ids. */
function exampleEnvelope(code: ErrorCode, url: string, batchVendor: boolean) {
  const entry = ERROR_CATALOGUE[code];
  const message =
    code !== 'not_found'
      ? (entry.message as string)
      : batchVendor
        ? "Batch '6650f3a2c1d4e5f6a7b8c9d0' not found."
        : url.includes('/cohorts')
          ? `Cohort '${DEMO_COHORT_ID}' not found in deployment 'demo'.`
          : (entry.message as string);
  const details =
    code === 'validation_failed'
      ? [{ field: '/limit', message: 'must be <= 100' }]
      : code === 'column_not_found'
        ? { column_name: 'mobile', header: ['phone', 'name'] }
        : null;
  const error = new AppError(code, message, details);
  return batchVendor ? toBatchVendorEnvelope(error) : toEnvelope(error);
}

/**
 * Responses built from a route's own list of codes (config.errorCodes): one per status the route
 * answers with (the batch vendor's statuses on its routes), each code with an example.
 */
function responsesForCodes(codes: readonly ErrorCode[], url: string, batchVendor: boolean): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = batchVendor ? batchVendorStatus(new AppError(code)) : ERROR_CATALOGUE[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, unknown> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const described = batchVendor
      ? (BATCH_VENDOR_DESCRIPTIONS[status] ?? ERROR_DESCRIPTIONS[status])
      : ERROR_DESCRIPTIONS[status];
    responses[status] = {
      ...(batchVendor ? BatchVendorErrorSchema : ErrorEnvelopeSchema),
      description: `${described ?? 'Error'}. Codes: ${list.join(', ')}`,
      examples: list.map((code) => exampleEnvelope(code, url, batchVendor)),
    };
  }
  return responses;
}

/**
 * Gives every route the error responses it can produce, so the OpenAPI document lists them: the
 * route's own codes (config.errorCodes) when it declares them, else the generic statuses.
 */
function addStandardErrors(route: RouteOptions): void {
  const schema = route.schema;
  if (!schema || (schema as { hide?: boolean }).hide) return;
  const codes = route.config?.errorCodes;
  const batchVendor = isBatchVendorPath(route.url);
  const response = {
    ...((schema.response as Record<string, unknown> | undefined) ?? {}),
    ...(codes ? responsesForCodes(codes, route.url, batchVendor) : {}),
  };
  if (!codes) {
    const isPublic = route.config?.public;
    const writes = [route.method].flat().some((method) => !['GET', 'HEAD', 'OPTIONS'].includes(method));
    const standard = batchVendor ? BATCH_VENDOR_ERRORS : STANDARD_ERRORS;
    const statuses: readonly number[] = isPublic ? PUBLIC_ERRORS : writes ? [...standard, ...WRITE_ERRORS] : standard;
    for (const status of statuses) {
      if (!(status in response)) response[status] = errorResponse(status, batchVendor);
    }
  }
  for (const [status, value] of Object.entries(response)) {
    if (value === ErrorEnvelopeSchema || value === BatchVendorErrorSchema)
      response[status] = errorResponse(Number(status), batchVendor);
  }
  schema.response = response;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every method and URL registered, in registration order; the OpenAPI coverage check reads it. */
    servedRoutes: Array<{ method: string; url: string }>;
  }
}

/** OpenAPI 3.1 generated from the route schemas, served at /openapi.json and browsable at /docs. */
export const openapiPlugin = fp(async (app: FastifyInstance) => {
  const served: Array<{ method: string; url: string }> = [];
  app.decorate('servedRoutes', served);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) served.push({ method, url: route.url });
    addStandardErrors(route);
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Roster API',
        version: '1',
        description:
          'Contact ingestion for voice-AI agents: cohorts (inbound personalisation) and calling batches (outbound). ' +
          'Errors use the envelope of the vendor whose API a route mirrors: {"error": {"message", "type", "code", "data": {"details"}}} ' +
          'everywhere but /api/call, where the batch vendor\'s {"message", "status": false, "code": <HTTP status>, "errorMessage", ' +
          '"data": {"code", "details"}} is used (data.code is the stable code). ' +
          "Cohort and caller routes are documented under /v1; each of them answers the same under the vendor's prefix " +
          '/api/scheduling/v1 too (a vendor client only changes its base URL), left out of this listing.',
      },
      components: {
        securitySchemes: {
          ApiKeyAuth: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          BearerAuth: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ ApiKeyAuth: [] }, { BearerAuth: [] }],
    },
    // Multipart routes read their parts as streams; their body is described for the document only.
    // The vendor-prefixed twins of the /v1 routes are served but hidden.
    transform: ({ schema, url, route }) => {
      const body = (route.config as { openapiBody?: unknown } | undefined)?.openapiBody;
      const hide = url.startsWith(VENDOR_DUPLICATE_PREFIX);
      const documented = body ? ({ ...schema, body } as typeof schema) : schema;
      return { schema: hide ? ({ ...documented, hide: true } as typeof schema) : documented, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', theme: { title: 'Roster API' } });
});
