import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { BatchDeps } from '../../../services/batches/batch-deps.js';
import { dncUploadLimits, intakeDncUpload } from '../../../services/batches/dnc-intake.js';
import { addDncNumbers, dncScope, listDncNumbers, removeDncNumber } from '../../../services/batches/dnc-service.js';
import { principalOf } from '../../plugins/auth.js';
import { pageEnvelope } from '../../pagination.js';
import { BatchVendorErrorSchema, PageOf, Timestamp } from '../../schemas.js';
import { routeErrorCodes } from '../../route-error-codes.js';
import { acceptUploads, uploadParts } from '../../upload-request.js';
import { BATCH_ROUTE_ERRORS } from './batch-errors.js';

const ScopeQuery = {
  org_id: Type.Optional(Type.String({ description: 'Only with the master key' })),
  workspace_id: Type.Optional(Type.String({ description: 'Required unless the key names exactly one workspace' })),
};
const DncAddedSchema = Type.Object({
  added: Type.Integer(),
  alreadyListed: Type.Integer(),
  invalid: Type.Array(Type.Object({ value: Type.String(), reason: Type.String() })),
});
const E = BatchVendorErrorSchema;
const Country = Type.Optional(
  Type.String({ pattern: '^[A-Za-z]{2}$', description: 'Country for national numbers, e.g. IN' }),
);

/** The workspace's do-not-call list: numbers a batch with enableDNC="true" never calls. */
export async function dncRoutes(
  appBase: FastifyInstance,
  options: { deps: BatchDeps; dataDir: string },
): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const { deps } = options;
  const tags = ['do-not-call'];
  await acceptUploads(app, deps.config);

  app.get(
    '/api/call/dnc',
    {
      schema: {
        tags,
        summary: 'List the do-not-call numbers',
        querystring: Type.Object(
          {
            ...ScopeQuery,
            offset: Type.Integer({ minimum: 0, default: 0 }),
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: PageOf(
            Type.Object({
              phoneNumber: Type.String(),
              reason: Type.Union([Type.String(), Type.Null()]),
              createdAt: Timestamp,
            }),
          ),
        },
      },
      config: { errorCodes: routeErrorCodes(BATCH_ROUTE_ERRORS.dncList) },
    },
    async (request) => {
      const scope = await dncScope(deps, principalOf(request), request.query);
      const { offset, limit } = request.query;
      const page = await listDncNumbers(deps, scope, { offset, limit });
      return pageEnvelope(request, page.items, page.total, offset, limit);
    },
  );

  app.post(
    '/api/call/dnc',
    {
      schema: {
        tags,
        summary: 'Add numbers to the do-not-call list',
        body: Type.Object(
          {
            ...ScopeQuery,
            phoneNumbers: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 10_000 }),
            country: Country,
            reason: Type.Optional(Type.String({ maxLength: 500 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: DncAddedSchema },
      },
      // Adding a listed number again changes nothing: safe to run again, nothing to record.
      config: { errorCodes: routeErrorCodes(BATCH_ROUTE_ERRORS.dncAdd), idempotent: true },
    },
    async (request) => {
      const scope = await dncScope(deps, principalOf(request), request.body);
      return addDncNumbers(
        deps,
        scope,
        request.body.phoneNumbers,
        request.body.country?.toUpperCase(),
        request.body.reason ?? null,
      );
    },
  );

  app.post(
    '/api/call/dnc/upload',
    {
      schema: {
        tags,
        summary:
          'Add a file of numbers to the do-not-call list (.csv, .xlsx or .xls; the phoneNumber column, else the first)',
        consumes: ['multipart/form-data'],
        response: { 200: DncAddedSchema, 400: E, 404: E },
      },
      config: {
        errorCodes: routeErrorCodes(BATCH_ROUTE_ERRORS.dncUpload),
        idempotent: true,
        openapiBody: {
          type: 'object',
          required: ['file'],
          properties: {
            file: { type: 'string', format: 'binary' },
            workspace_id: { type: 'string' },
            org_id: { type: 'string' },
            country: { type: 'string' },
            reason: { type: 'string' },
          },
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const parts = uploadParts(request, dncUploadLimits(deps.config));
      return intakeDncUpload(deps, principal, { parts, dataDir: options.dataDir });
    },
  );

  app.delete(
    '/api/call/dnc/:phone',
    {
      schema: {
        tags,
        summary: 'Remove a number from the do-not-call list',
        params: Type.Object({ phone: Type.String({ maxLength: 64 }) }),
        querystring: Type.Object({ ...ScopeQuery, country: Country }, { additionalProperties: false }),
        response: { 200: Type.Object({ deleted: Type.Literal(true), phoneNumber: Type.String() }) },
      },
      config: { errorCodes: routeErrorCodes(BATCH_ROUTE_ERRORS.dncRemove) },
    },
    async (request) => {
      const scope = await dncScope(deps, principalOf(request), request.query);
      return {
        deleted: true as const,
        phoneNumber: await removeDncNumber(deps, scope, request.params.phone, request.query.country?.toUpperCase()),
      };
    },
  );
}
