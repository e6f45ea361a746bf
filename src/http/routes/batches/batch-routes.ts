import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../../errors.js';
import type { BatchDeps } from '../../../services/batches/batch-deps.js';
import { BATCH_FIELDS, parseBatchFields, type BatchFieldName } from '../../../services/batches/batch-fields.js';
import { batchDetails, changeBatchStatus, listBatches } from '../../../services/batches/batch-service.js';
import { dncScope, importDncFile } from '../../../services/batches/dnc-service.js';
import { createBatchFromFile } from '../../../services/batches/batch-upload-service.js';
import { saveUpload } from '../../../services/batches/upload-file.js';
import { principalOf } from '../../plugins/auth.js';
import { pageEnvelope } from '../../pagination.js';
import { ErrorEnvelopeSchema } from '../../schemas.js';
import { addCalls, createEmptyBatch } from '../../../services/batches/batch-json-service.js';
import { AddCallsBody, AddCallsResponse, BatchDetailsQuery, BatchSummarySchema, BatchUploadBodyDoc, BatchUploadResponse, CreateBatchBody, DetailsResponse, ListBatchesQuery } from './batch-schemas.js';

const E = ErrorEnvelopeSchema;

/** The vendor's batch API under /api/call: upload, details, and the lifecycle Roster adds. */
export async function batchRoutes(appBase: FastifyInstance, options: { deps: BatchDeps; dataDir: string }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const { deps } = options;
  const tags = ['batches'];
  await app.register(multipart, {
    limits: { fileSize: deps.config.batches.maxBytes, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 24 },
    throwFileSizeLimit: true,
  });

  app.post(
    '/api/call/upload',
    {
      schema: {
        tags,
        summary: 'Upload Batch CSV: create a batch from a .csv, .xlsx or .xls file (multipart)',
        consumes: ['multipart/form-data'],
        response: { 200: BatchUploadResponse, 400: E, 404: E, 413: E, 422: E },
      },
      config: { openapiBody: BatchUploadBodyDoc },
    },
    async (request) => {
      const principal = principalOf(request);
      if (!request.isMultipart()) throw new AppError('unsupported_media_type', 'Send multipart/form-data with a file and the batch fields.');
      const raw: Partial<Record<BatchFieldName, string>> = {};
      const unknown: string[] = [];
      let upload: Awaited<ReturnType<typeof saveUpload>> | undefined;
      let filename = '';
      try {
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file' || upload) {
              unknown.push(part.fieldname);
              part.file.resume();
              continue;
            }
            filename = part.filename;
            upload = await saveUpload(options.dataDir, part.file, part.filename);
          } else if ((BATCH_FIELDS as readonly string[]).includes(part.fieldname)) {
            raw[part.fieldname as BatchFieldName] = String(part.value);
          } else {
            unknown.push(part.fieldname);
          }
        }
        if (unknown.length > 0) {
          throw new AppError('invalid_batch_field', `Unknown fields: ${unknown.join(', ')}. The form takes file, ${BATCH_FIELDS.join(', ')}.`, unknown.map((field) => ({ field, message: 'is not a known field' })));
        }
        if (!upload) throw new AppError('invalid_batch_field', 'file is required: attach the contacts as a .csv, .xlsx or .xls file.', [{ field: 'file', message: 'is required' }]);
        if (upload.bytes === 0) throw new AppError('empty_file', `'${filename}' is empty.`);
        const fields = parseBatchFields(raw);
        const result = await createBatchFromFile(deps, principal, fields, { path: upload.path, filename });
        return { success: true as const, batch: result.batch, skipped: result.skipped, invalidRows: result.invalidRows };
      } catch (error) {
        if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
          throw new AppError('file_too_large', `The file is larger than ${deps.config.batches.maxBytes} bytes (ROSTER_BATCH_MAX_BYTES).`);
        }
        throw error;
      } finally {
        await upload?.remove();
      }
    },
  );

  app.get(
    '/api/call/batch-details/:batchId',
    { schema: { tags, summary: 'A batch and one page of its calls, with each attempt', params: Type.Object({ batchId: Type.String() }), querystring: BatchDetailsQuery, response: { 200: DetailsResponse } } },
    async (request) => {
      const { page, limit, filter, sortBy, sortOrder, search } = request.query;
      return batchDetails(deps, principalOf(request), request.params.batchId, { page, limit, filter, sortBy, sortOrder, search });
    },
  );

  app.get(
    '/api/call/batches',
    { schema: { tags, summary: 'List batches of the workspaces this key reaches', querystring: ListBatchesQuery, response: { 200: Type.Object({ items: Type.Array(BatchSummarySchema), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer(), next_page_uri: Type.Union([Type.String(), Type.Null()]), prev_page_uri: Type.Union([Type.String(), Type.Null()]) }) } } },
    async (request) => {
      const principal = principalOf(request);
      const orgId = principal.kind === 'key' ? principal.orgId : request.query.org_id;
      if (!orgId) throw new AppError('validation_failed', 'The master key must name org_id.', [{ field: '/querystring/org_id', message: 'is required with the master key' }]);
      const { offset, limit } = request.query;
      const result = await listBatches(deps, principal, orgId, { offset, limit });
      return pageEnvelope(request, result.items, result.total, offset, limit);
    },
  );

  app.post(
    '/api/call/batches',
    { schema: { tags, summary: 'Create an empty batch (JSON); add calls to it next', body: CreateBatchBody, response: { 201: Type.Object({ success: Type.Literal(true), batch: BatchSummarySchema }), 400: E, 404: E } } },
    async (request, reply) => reply.code(201).send({ success: true as const, batch: await createEmptyBatch(deps, principalOf(request), request.body) }),
  );

  app.post(
    '/api/call/batches/:batchId/calls',
    {
      schema: {
        tags,
        summary: 'Add up to 1000 calls to a batch; 207 lists each refused call when only some were added',
        params: Type.Object({ batchId: Type.String() }),
        body: AddCallsBody,
        response: { 200: AddCallsResponse, 207: AddCallsResponse, 409: E, 422: E },
      },
    },
    async (request, reply) => {
      const result = await addCalls(deps, principalOf(request), request.params.batchId, request.body.calls);
      return reply.code(result.status).send(result.body);
    },
  );

  app.post(
    '/api/call/dnc/upload',
    {
      schema: {
        tags: ['do-not-call'],
        summary: 'Add a file of numbers to the do-not-call list (.csv, .xlsx or .xls; the phoneNumber column, else the first)',
        consumes: ['multipart/form-data'],
        response: { 200: Type.Object({ added: Type.Integer(), alreadyListed: Type.Integer(), invalid: Type.Array(Type.Object({ value: Type.String(), reason: Type.String() })) }), 400: E, 404: E },
      },
      config: {
        openapiBody: {
          type: 'object',
          required: ['file'],
          properties: { file: { type: 'string', format: 'binary' }, workspace_id: { type: 'string' }, org_id: { type: 'string' }, country: { type: 'string' }, reason: { type: 'string' } },
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      if (!request.isMultipart()) throw new AppError('unsupported_media_type', 'Send multipart/form-data with a file.');
      const given: Record<string, string> = {};
      let upload: Awaited<ReturnType<typeof saveUpload>> | undefined;
      let filename = '';
      try {
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            if (upload) {
              part.file.resume();
              continue;
            }
            filename = part.filename;
            upload = await saveUpload(options.dataDir, part.file, part.filename);
          } else if (['workspace_id', 'org_id', 'country', 'reason'].includes(part.fieldname)) {
            given[part.fieldname] = String(part.value);
          } else {
            throw new AppError('invalid_batch_field', `Unknown field ${part.fieldname}; send file, workspace_id, org_id, country, reason.`, [{ field: part.fieldname, message: 'is not a known field' }]);
          }
        }
        if (!upload) throw new AppError('invalid_batch_field', 'file is required.', [{ field: 'file', message: 'is required' }]);
        const scope = await dncScope(deps, principal, given);
        return await importDncFile(deps, scope, { path: upload.path, filename }, given.country?.toUpperCase(), given.reason ?? null);
      } finally {
        await upload?.remove();
      }
    },
  );

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    app.post(
      `/api/call/batches/:batchId/${action}`,
      { schema: { tags, summary: `${action[0]!.toUpperCase()}${action.slice(1)} a batch`, params: Type.Object({ batchId: Type.String() }), response: { 200: Type.Object({ success: Type.Literal(true), batch: BatchSummarySchema }), 409: E } } },
      async (request) => ({ success: true as const, batch: await changeBatchStatus(deps, principalOf(request), request.params.batchId, action) }),
    );
  }
}
