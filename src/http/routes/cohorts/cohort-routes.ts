import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../../errors.js';
import type { CohortDeps } from '../../../services/cohorts/cohort-deps.js';
import * as service from '../../../services/cohorts/cohort-service.js';
import { acceptCohortFromUsers } from '../../../services/cohorts/stream-source.js';
import { requireWorkspace } from '../../plugins/auth.js';
import { pageEnvelope } from '../../pagination.js';
import { DeletedSchema, ErrorEnvelopeSchema } from '../../schemas.js';
import { CohortPageSchema, CohortParams, CohortSchema, CreateFromUrlBody, StreamUsersBody, DeploymentParams, FilesQuery, ListCohortsQuery, UploadBodyDoc } from './cohort-schemas.js';
import { readTransformationPart } from './transformation-part.js';

const E = ErrorEnvelopeSchema;
const PARTS = ['name', 'cohort_file', 'cohort_transformation_file'];

/** The deployment a request names, once the key is known to reach its workspace (404 otherwise). */
export function scopeOf(request: FastifyRequest) {
  const { org_id: orgId, workspace_id: workspaceId, deployment_id: deploymentId } = request.params as { org_id: string; workspace_id: string; deployment_id: string };
  requireWorkspace(request, orgId, workspaceId);
  return { orgId, workspaceId, deploymentId };
}

/**
 * The cohort API, served under both /v1 and the vendor's /api/scheduling/v1 prefix (the plugin is
 * registered once per prefix), so a vendor client only changes its base URL.
 */
export async function cohortRoutes(appBase: FastifyInstance, options: { deps: CohortDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const { deps } = options;
  const tags = ['cohorts'];
  await app.register(multipart, {
    limits: { fileSize: deps.config.cohorts.maxUploadBytes, files: 2, fields: 4, fieldSize: 4096, parts: 6, headerPairs: 200 },
    throwFileSizeLimit: true,
  });
  const base = '/orgs/:org_id/workspaces/:workspace_id/deployments/:deployment_id/cohorts';

  app.post(
    `${base}/upload`,
    {
      schema: {
        tags,
        summary: 'Upload a cohort: CSV + transformation config (multipart)',
        description: 'Stores the file, refuses blocking problems at once (422, nothing kept), then processes it in the background. Poll GET /{cohort_id} until status is completed or failed.',
        params: DeploymentParams,
        consumes: ['multipart/form-data'],
        response: { 200: CohortSchema, 413: E, 422: E },
      },
      config: { openapiBody: UploadBodyDoc },
    },
    async (request) => {
      const scope = scopeOf(request);
      if (!request.isMultipart()) throw new AppError('unsupported_media_type', 'Send multipart/form-data with name, cohort_file and cohort_transformation_file.');
      await service.requireDeployment(deps, scope);
      const cohortId = service.newCohortId();
      let name: string | undefined;
      let staged: service.StagedFile | undefined;
      let transformationText: string | undefined;
      const unknown: string[] = [];
      try {
        for await (const part of request.parts()) {
          if (part.type === 'field') {
            if (part.fieldname === 'name') name = String(part.value);
            else unknown.push(part.fieldname);
          } else if (part.fieldname === 'cohort_file' && staged === undefined) {
            staged = await service.stageCohortFile(deps, cohortId, part.file);
          } else if (part.fieldname === 'cohort_transformation_file' && transformationText === undefined) {
            transformationText = await readTransformationPart(part);
          } else {
            unknown.push(part.fieldname);
            part.file.resume();
          }
        }
        const problems = [
          ...unknown.map((field) => ({ field: `/body/${field}`, message: `is not a known field; send ${PARTS.join(', ')}` })),
          ...(staged ? [] : [{ field: '/body/cohort_file', message: 'is required (the CSV file)' }]),
          ...(transformationText !== undefined ? [] : [{ field: '/body/cohort_transformation_file', message: 'is required (the JSON config)' }]),
        ];
        if (problems.length > 0) {
          throw new AppError(unknown.length === 0 ? 'missing_file' : 'validation_failed', `The upload is incomplete: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}.`, problems);
        }
        return await service.acceptCohortUpload(deps, scope, request.principal!, {
          cohortId,
          name: service.checkCohortName(name),
          staged: staged!,
          transformationText: transformationText!,
        });
      } catch (error) {
        // Nothing half-made stays behind: the staged file goes with the refusal.
        await service.discardStagedUpload(deps, cohortId, request.log);
        if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
          throw new AppError('file_too_large', `The cohort file is larger than ${deps.config.cohorts.maxUploadBytes} bytes (ROSTER_MAX_UPLOAD_BYTES).`, {
            max_bytes: deps.config.cohorts.maxUploadBytes,
          });
        }
        throw error;
      }
    },
  );

  app.post(
    base,
    {
      schema: {
        tags,
        summary: 'Create a cohort from a hosted CSV (pre-signed URL)',
        description:
          'Roster downloads the file itself (http/https, public addresses only, at most 3 redirects, ROSTER_MAX_UPLOAD_BYTES and ROSTER_URL_SOURCE_TIMEOUT_MS apply) and processes it in the background. A URL that is not http(s), or a config of the wrong shape, is refused at once (422); problems found in the file or the download fail the cohort with a code. Poll GET /{cohort_id}.',
        params: DeploymentParams,
        body: CreateFromUrlBody,
        response: { 200: CohortSchema, 404: E, 422: E },
      },
    },
    async (request) => {
      const { name, source, cohort_transformation: transformation } = request.body;
      return service.acceptCohortFromUrl(deps, scopeOf(request), request.principal!, { name, url: source.url, transformation });
    },
  );

  app.post(
    `${base}/stream`,
    {
      bodyLimit: 16 * 1024 * 1024,
      schema: {
        tags,
        summary: 'Add known callers without a file (1–1000 users, JSON)',
        description:
          'Each user follows the same rules as a CSV row (phone normalisation, required variables, duplicates). Asynchronous like uploads: poll GET /{cohort_id}. source_type is file_upload: the users are stored as a CSV, which file_type=cohort returns.',
        params: DeploymentParams,
        body: StreamUsersBody,
        response: { 200: CohortSchema, 404: E, 422: E },
      },
    },
    async (request) => acceptCohortFromUsers(deps, scopeOf(request), request.principal!, request.body),
  );

  app.get(
    base,
    { schema: { tags, summary: 'List cohorts of a deployment', params: DeploymentParams, querystring: ListCohortsQuery, response: { 200: CohortPageSchema } } },
    async (request) => {
      const scope = scopeOf(request);
      const { offset, limit, sort_by: sortBy, sort_order: sortOrder, search } = request.query;
      const page = await service.listCohorts(deps, scope, { offset, limit, sortBy, sortOrder, search });
      return pageEnvelope(request, page.items, page.total, offset, limit);
    },
  );

  app.get(
    `${base}/:cohort_id`,
    { schema: { tags, summary: 'Get a cohort: status, and counts once completed', params: CohortParams, response: { 200: CohortSchema } } },
    async (request) => service.cohortView(await service.getCohort(deps, scopeOf(request), request.params.cohort_id)),
  );

  app.get(
    `${base}/:cohort_id/files`,
    {
      schema: {
        tags,
        summary: 'Download a cohort file: the CSV, its rejected records, or its transformation config',
        params: CohortParams,
        querystring: FilesQuery,
        produces: ['text/csv', 'application/json'],
        response: { 200: { description: 'The file', type: 'string', format: 'binary' } },
      },
    },
    async (request, reply) => {
      const file = await service.openCohortFile(deps, scopeOf(request), request.params.cohort_id, request.query.file_type);
      return reply
        .header('content-type', file.contentType)
        .header('content-disposition', `attachment; filename="${file.filename}"`)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'private, no-store')
        .send(file.stream);
    },
  );

  app.delete(
    `${base}/:cohort_id`,
    { schema: { tags, summary: 'Delete a cohort and its contacts', params: CohortParams, response: { 200: DeletedSchema } } },
    async (request) => {
      await service.deleteCohort(deps, scopeOf(request), request.params.cohort_id);
      return { deleted: true as const, id: request.params.cohort_id };
    },
  );
}
