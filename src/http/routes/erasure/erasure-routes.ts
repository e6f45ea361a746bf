import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { type ErasureDeps, MAX_ERASURE_NUMBERS } from '../../../services/erasure/erasure-service.js';
import * as service from '../../../services/erasure/erasure-service.js';
import { requireWorkspace } from '../../plugins/auth.js';
import { pageEnvelope } from '../../pagination.js';
import { routeErrorCodes, WRITE_ERROR_CODES } from '../../route-error-codes.js';
import { ErrorEnvelopeSchema, PageOf, PageQuerySchema, Timestamp } from '../../schemas.js';

const E = ErrorEnvelopeSchema;
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Count = (description: string) => Type.Integer({ minimum: 0, description });

const WorkspaceParams = Type.Object({ org_id: Type.String(), workspace_id: Type.String() });
const ErasureParams = Type.Object({ ...WorkspaceParams.properties, erasure_id: Type.String() });

const ErasureSchema = Type.Object(
  {
    erasure_id: Type.String(),
    status: Type.Union([Type.Literal('processing'), Type.Literal('completed'), Type.Literal('failed')], {
      description:
        'processing while stored files are being rewritten; the database part is done when the request is answered',
    }),
    phone_numbers: Count('How many distinct numbers the request named (the numbers themselves are not kept)'),
    requested_by: Type.String(),
    created_at: Timestamp,
    completed_at: Nullable(Timestamp),
    removed: Type.Object({
      contacts: Count("Contacts removed from the workspace's cohorts (every deployment)"),
      calls: Count("Calls removed from the workspace's batches"),
      call_logs: Count("Those calls' logs (outcomes, transcripts, recordings' URLs)"),
      webhook_deliveries: Count('Webhook deliveries whose body named a number, with their attempts'),
      cohort_file_rows: Count('Rows removed from stored cohort files'),
      rejected_file_rows: Count('Rows removed from stored rejection files'),
    }),
    files_rewritten: Count('Stored files written again without those rows'),
    files_deleted: Count('Stored files that could not be read to their end, deleted rather than kept'),
    cohorts_pending: Count('Cohorts whose files are still to be rewritten (processing ones are waited for)'),
    error: Nullable(Type.Object({ message: Type.String() })),
  },
  { title: 'Erasure' },
);

const ErasureBody = Type.Object(
  {
    phone_numbers: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      minItems: 1,
      maxItems: MAX_ERASURE_NUMBERS,
      description: 'E.164 numbers (+…), or national ones read with `country`',
    }),
    country: Type.Optional(
      Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166 alpha-2, for numbers written nationally' }),
    ),
  },
  { additionalProperties: false },
);

/** Right-to-erasure requests of a workspace. */
export async function erasureRoutes(appBase: FastifyInstance, options: { deps: ErasureDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const { deps } = options;
  const tags = ['erasure'];
  const base = '/v1/orgs/:org_id/workspaces/:workspace_id/erasure';

  app.post(
    base,
    {
      schema: {
        tags,
        summary: 'Erase phone numbers from every cohort, batch and call log of the workspace, and from stored files',
        description:
          "Before the answer: the numbers' contacts in every deployment (lookups answer found: false), their calls with the calls' logs (each batch counts them out), and webhook deliveries whose body names them. Then a job rewrites every stored cohort and rejection file of the workspace without the rows that hold a number (cohorts still processing are waited for, and never publish the numbers); poll GET …/erasure/{erasure_id} until completed, or subscribe a webhook to erasure.completed. Do-not-call entries are kept. Answers 202.",
        params: WorkspaceParams,
        body: ErasureBody,
        response: { 202: ErasureSchema, 404: E, 422: E },
      },
      config: { errorCodes: routeErrorCodes([...WRITE_ERROR_CODES, 'invalid_phone_number']) },
    },
    async (request, reply) => {
      const { org_id: orgId, workspace_id: workspaceId } = request.params;
      const principal = requireWorkspace(request, orgId, workspaceId);
      const erasure = await service.requestErasure(deps, orgId, workspaceId, principal, request.body);
      return reply
        .code(202)
        .header('location', `/v1/orgs/${orgId}/workspaces/${workspaceId}/erasure/${erasure.erasure_id}`)
        .send(erasure);
    },
  );

  app.get(
    base,
    {
      schema: {
        tags,
        summary: "The workspace's erasure requests, newest first",
        params: WorkspaceParams,
        querystring: PageQuerySchema,
        response: { 200: PageOf(ErasureSchema), 404: E },
      },
      config: { errorCodes: routeErrorCodes([]) },
    },
    async (request) => {
      const { org_id: orgId, workspace_id: workspaceId } = request.params;
      requireWorkspace(request, orgId, workspaceId);
      const { offset, limit } = request.query;
      const page = await service.listErasures(deps, orgId, workspaceId, { offset, limit });
      return pageEnvelope(request, page.items, page.total, offset, limit);
    },
  );

  app.get(
    `${base}/:erasure_id`,
    {
      schema: { tags, summary: 'One erasure request', params: ErasureParams, response: { 200: ErasureSchema, 404: E } },
      config: { errorCodes: routeErrorCodes([]) },
    },
    async (request) => {
      const { org_id: orgId, workspace_id: workspaceId, erasure_id: erasureId } = request.params;
      requireWorkspace(request, orgId, workspaceId);
      return service.getErasure(deps, orgId, workspaceId, erasureId);
    },
  );
}
