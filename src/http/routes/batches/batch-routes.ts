import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../../errors.js';
import type { BatchDeps } from '../../../services/batches/batch-deps.js';
import { batchUploadLimits, intakeBatchUpload } from '../../../services/batches/batch-intake.js';
import {
  batchDetails,
  changeBatchStatus,
  listBatches,
  listUserBatches,
} from '../../../services/batches/batch-service.js';
import { toAppError } from '../../error-handler.js';
import { principalOf } from '../../plugins/auth.js';
import { pageEnvelope } from '../../pagination.js';
import { BatchVendorErrorSchema, Hex24Id, PageOf } from '../../schemas.js';
import { acceptUploads, uploadParts } from '../../upload-request.js';
import { routeErrorCodes } from '../../route-error-codes.js';
import { addCallsToBatch, createBatch } from '../../../services/batches/batch-json-service.js';
import {
  AddCallsToBatchBody,
  AddCallsToBatchResponse,
  BatchDetailsQuery,
  BatchSummarySchema,
  BatchUploadBodyDoc,
  BatchUploadResponse,
  CreateBatchBody,
  CreateBatchResponse,
  DetailsResponse,
  ListBatchesQuery,
  UserBatchesQuery,
  UserBatchesResponse,
} from './batch-schemas.js';
import { BATCH_ROUTE_ERRORS } from './batch-errors.js';
import { recordCreated } from '../../plugins/idempotency.js';

const E = BatchVendorErrorSchema;

/** The batch vendor's success envelope: `code` repeats the HTTP status. */
function vendorEnvelope<T>(code: number, message: string, data: T) {
  return { message, status: true, code, errorMessage: '', data };
}

/** The vendor's batch API under /api/call: upload, details, and the lifecycle Roster adds. */
export async function batchRoutes(
  appBase: FastifyInstance,
  options: { deps: BatchDeps; dataDir: string },
): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const { deps } = options;
  const tags = ['batches'];
  await acceptUploads(app, deps.config);

  app.post(
    '/api/call/upload',
    {
      schema: {
        tags,
        summary: 'Upload Batch CSV: create a batch from a .csv, .xlsx or .xls file (multipart)',
        consumes: ['multipart/form-data'],
        response: { 200: BatchUploadResponse, 400: E, 404: E, 413: E, 422: E },
      },
      config: {
        openapiBody: BatchUploadBodyDoc,
        errorCodes: routeErrorCodes(BATCH_ROUTE_ERRORS.upload),
        idempotent: true,
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const parts = uploadParts(request, batchUploadLimits(deps.config, 'api'));
      const upload = await intakeBatchUpload(deps, principal, {
        parts,
        source: 'api',
        dataDir: options.dataDir,
        recordCreated: recordCreated(request, (result) => ({ status: 200, body: result })),
      });
      if (!upload.accepted) throw upload.refusal;
      const { batch, skipped, invalidRows } = upload.batch;
      return { success: true as const, batch, skipped, invalidRows };
    },
  );

  app.get(
    '/api/call/batch-details/:batchId',
    {
      schema: {
        tags,
        summary: "A batch and one page of its calls, with each attempt (the vendor's batch details)",
        params: Type.Object({ batchId: Type.String({ description: '24 hexadecimal characters' }) }),
        querystring: BatchDetailsQuery,
        response: { 200: DetailsResponse, 400: E, 404: E },
      },
      config: { errorCodes: routeErrorCodes(BATCH_ROUTE_ERRORS.details) },
      // The vendor answers a malformed query parameter with 400, not the 422 of schema failures elsewhere.
      attachValidation: true,
    },
    async (request) => {
      if (request.validationError) {
        const invalid = toAppError(request.validationError);
        throw new AppError('invalid_query', invalid.message, invalid.details);
      }
      const { page, limit, filter, sortBy, sortOrder, search } = request.query;
      return batchDetails(deps, principalOf(request), request.params.batchId, {
        page,
        limit,
        filter,
        sortBy,
        sortOrder,
        search,
      });
    },
  );

  app.get(
    '/api/call/batches',
    {
      schema: {
        tags,
        summary: 'List batches of the workspaces this key reaches',
        querystring: ListBatchesQuery,
        response: {
          200: PageOf(BatchSummarySchema),
        },
      },
      config: { errorCodes: routeErrorCodes(BATCH_ROUTE_ERRORS.list) },
    },
    async (request) => {
      const principal = principalOf(request);
      const orgId = principal.kind === 'key' ? principal.orgId : request.query.org_id;
      if (!orgId)
        throw new AppError('validation_failed', 'The master key must name org_id.', [
          { field: '/querystring/org_id', message: 'is required with the master key' },
        ]);
      const { offset, limit } = request.query;
      const result = await listBatches(deps, principal, orgId, { offset, limit });
      return pageEnvelope(request, result.items, result.total, offset, limit);
    },
  );

  app.post(
    '/api/call/createBatch',
    {
      schema: {
        tags,
        summary: 'Create an empty batch (JSON); add calls to it with addCallsToBatch',
        body: CreateBatchBody,
        response: { 201: CreateBatchResponse, 400: E, 404: E },
      },
      config: { errorCodes: routeErrorCodes(BATCH_ROUTE_ERRORS.createBatch), idempotent: true },
    },
    async (request, reply) => {
      const answer = (batchId: string) => vendorEnvelope(201, 'Batch created successfully', batchId);
      const batchId = await createBatch(
        deps,
        principalOf(request),
        request.body,
        recordCreated(request, (id: string) => ({ status: 201, body: answer(id) })),
      );
      return reply.code(201).send(answer(batchId));
    },
  );

  app.post(
    '/api/call/addCallsToBatch',
    {
      schema: {
        tags,
        summary: 'Add calls to a batch, in chunks of 1000; 207 lists the chunks refused when only some were added',
        body: AddCallsToBatchBody,
        response: { 200: AddCallsToBatchResponse, 207: AddCallsToBatchResponse, 400: E, 404: E, 409: E },
      },
      // Safe to run again (a phone the batch has is answered, not added twice): nothing to record.
      config: { errorCodes: routeErrorCodes(BATCH_ROUTE_ERRORS.addCallsToBatch), idempotent: true },
    },
    async (request, reply) => {
      const { batchId, callData } = request.body;
      const result = await addCallsToBatch(deps, principalOf(request), batchId, callData);
      const skipped = [
        result.skipped.duplicate > 0 ? `${result.skipped.duplicate} repeated in the request` : '',
        result.skipped.dnc > 0 ? `${result.skipped.dnc} on the do-not-call list` : '',
      ].filter(Boolean);
      const added = `${result.added} call${result.added === 1 ? '' : 's'} added${skipped.length > 0 ? `; skipped ${skipped.join(', ')}` : ''}`;
      const data = { added: result.added, callIds: result.callIds };
      if (result.failedChunks.length === 0) return vendorEnvelope(200, `${added}.`, data);
      const failed = `${result.failedChunks.length} chunk${result.failedChunks.length === 1 ? '' : 's'} failed`;
      return reply.code(207).send({
        ...vendorEnvelope(207, `Calls partially added: ${added}; ${failed}.`, {
          ...data,
          failedChunks: result.failedChunks,
        }),
        status: false,
        errorMessage: result.failedChunks.map((f) => `chunk ${f.chunkNum}: ${f.error}`).join(' '),
      });
    },
  );

  app.get(
    '/api/call/batches/:userId',
    {
      schema: {
        tags,
        summary: "A user's batches, newest first, with their call counts",
        params: Type.Object({ userId: Hex24Id("The batch owner's user id (an org key: its own user)") }),
        querystring: UserBatchesQuery,
        response: { 200: UserBatchesResponse, 400: E, 404: E },
      },
      config: { errorCodes: routeErrorCodes(BATCH_ROUTE_ERRORS.userBatches) },
    },
    async (request) => {
      const { page, limit, search } = request.query;
      const data = await listUserBatches(deps, principalOf(request), request.params.userId, { page, limit, search });
      return vendorEnvelope(200, 'Batches fetched successfully', data);
    },
  );

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    app.post(
      `/api/call/batches/:batchId/${action}`,
      {
        schema: {
          tags,
          summary: `${action[0]!.toUpperCase()}${action.slice(1)} a batch`,
          params: Type.Object({ batchId: Type.String() }),
          response: { 200: Type.Object({ success: Type.Literal(true), batch: BatchSummarySchema }), 409: E },
        },
        config: { errorCodes: routeErrorCodes(BATCH_ROUTE_ERRORS[action]) },
      },
      async (request) => ({
        success: true as const,
        batch: await changeBatchStatus(deps, principalOf(request), request.params.batchId, action),
      }),
    );
  }
}
