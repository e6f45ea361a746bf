import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorEnvelopeSchema } from '../schemas.js';

const STANDARD_ERRORS = [400, 401, 404, 413, 415, 422, 429, 500] as const;
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
  503: 'A dependency is unavailable; retry later',
};

function errorResponse(status: number) {
  return { ...ErrorEnvelopeSchema, description: ERROR_DESCRIPTIONS[status] ?? 'Error' };
}

/** Gives every route the error responses it can produce, so the OpenAPI document lists them. */
function addStandardErrors(route: RouteOptions): void {
  const schema = route.schema;
  if (!schema || (schema as { hide?: boolean }).hide) return;
  const response = { ...((schema.response as Record<string, unknown> | undefined) ?? {}) };
  const statuses = route.config && (route.config as { public?: boolean }).public ? PUBLIC_ERRORS : STANDARD_ERRORS;
  for (const status of statuses) {
    if (!(status in response)) response[status] = errorResponse(status);
  }
  for (const [status, value] of Object.entries(response)) {
    if (value === ErrorEnvelopeSchema) response[status] = errorResponse(Number(status));
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
          'Errors use one envelope: {"error": {"message", "type", "code", "data": {"details"}}}.',
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
    transform: ({ schema, url, route }) => {
      const body = (route.config as { openapiBody?: unknown } | undefined)?.openapiBody;
      return { schema: body ? ({ ...schema, body } as typeof schema) : schema, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
});
