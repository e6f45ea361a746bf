import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { CohortDeps } from '../../../services/cohorts/cohort-deps.js';
import * as service from '../../../services/cohorts/cohort-service.js';
import { cohortUploadLimits, intakeCohortUpload } from '../../../services/cohorts/cohort-intake.js';
import { intakeCohortDryRun, intakeCohortDryRunFromUrl } from '../../../services/cohorts/cohort-dry-run-intake.js';
import { mappingSuggestionLimits, suggestCohortMapping } from '../../../services/cohorts/mapping-suggestion.js';
import { acceptCohortFromUsers } from '../../../services/cohorts/stream-source.js';
import { pageEnvelope } from '../../pagination.js';
import { DeletedSchema, ErrorEnvelopeSchema } from '../../schemas.js';
import { acceptUploads, clientGone, uploadParts } from '../../upload-request.js';
import {
  CohortDryRunSchema,
  CohortPageSchema,
  CohortParams,
  CohortSchema,
  CreateFromUrlBody,
  CreateFromUrlBodyDoc,
  StreamUsersBody,
  DeploymentParams,
  FilesQuery,
  ListCohortsQuery,
  MappingSuggestionBodyDoc,
  MappingSuggestionSchema,
  UploadBodyDoc,
  ValidateBodyDoc,
  ValidateFromUrlBody,
  ValidateFromUrlBodyDoc,
} from './cohort-schemas.js';
import { scopeOf } from '../deployment-scope.js';
import { recordCreated } from '../../plugins/idempotency.js';
import type { CohortView } from '../../../services/cohorts/cohort-service.js';
import { routeErrorCodes } from '../../route-error-codes.js';
import { COHORT_ROUTE_ERRORS } from './cohort-errors.js';

const E = ErrorEnvelopeSchema;

/** A create's answer: the new cohort as it was created (also what a repeat answers after a crash). */
const cohortAnswer = (cohort: CohortView) => ({ status: 200, body: cohort });

/**
 * The cohort API, served under both /v1 and the vendor's /api/scheduling/v1 prefix (the plugin is
 * registered once per prefix), so a vendor client only changes its base URL.
 */
export async function cohortRoutes(appBase: FastifyInstance, options: { deps: CohortDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const { deps } = options;
  const tags = ['cohorts'];
  await acceptUploads(app, deps.config);
  const base = '/orgs/:org_id/workspaces/:workspace_id/deployments/:deployment_id/cohorts';

  app.post(
    `${base}/upload`,
    {
      schema: {
        tags,
        summary: 'Upload a cohort: CSV + transformation config (multipart)',
        description:
          'Stores the file, refuses blocking problems at once (422, nothing kept), then processes it in the background. Poll GET /{cohort_id} until status is completed or failed.',
        params: DeploymentParams,
        consumes: ['multipart/form-data'],
        response: { 200: CohortSchema, 413: E, 422: E },
      },
      config: { openapiBody: UploadBodyDoc, errorCodes: routeErrorCodes(COHORT_ROUTE_ERRORS.upload), idempotent: true },
    },
    async (request) => {
      const scope = scopeOf(request);
      const parts = uploadParts(request, cohortUploadLimits(deps.config, 'api'));
      const upload = await intakeCohortUpload(
        deps,
        scope,
        request.principal!,
        { parts, source: 'api', recordCreated: recordCreated(request, cohortAnswer) },
        request.log,
      );
      if (!upload.accepted) throw upload.refusal;
      return upload.cohort;
    },
  );

  app.post(
    `${base}/validate`,
    {
      schema: {
        tags,
        summary: 'Check a cohort file without creating a cohort (dry run: multipart like /upload, or JSON like POST /)',
        description:
          "Takes /upload's form, or POST /'s JSON with a hosted CSV's URL (name optional in both), and answers what a cohort of the file would come to: every blocking problem refused with the same 4xx and codes (also too_many_rows, and invalid_csv at any row, which a cohort reports when it fails), then every row rule and repeated phone, counted as the cohort's result would be, with the first 100 rejected rows. A URL is downloaded now under POST /'s rules; a download a cohort would retry (timeout, 5xx) answers source_download_failed. Nothing is stored or published: no cohort, no file, no contacts.",
        params: DeploymentParams,
        // Only a JSON body is checked against a schema; the multipart form is read as a stream.
        body: { content: { 'application/json': { schema: ValidateFromUrlBody } } },
        response: { 200: CohortDryRunSchema, 404: E, 413: E, 415: E, 422: E },
      },
      config: {
        openapiBody: {
          content: {
            'multipart/form-data': { schema: ValidateBodyDoc },
            'application/json': { schema: ValidateFromUrlBodyDoc },
          },
        },
        errorCodes: routeErrorCodes(COHORT_ROUTE_ERRORS.validate),
        // A dry run writes nothing: not in the audit trail.
        audit: false,
      },
    },
    async (request, reply) => {
      const signal = clientGone(reply.raw);
      const json = request.body as Static<typeof ValidateFromUrlBody> | undefined;
      if (json !== undefined && !request.isMultipart()) {
        if (json.name !== undefined) service.checkCohortName(json.name);
        const checked = await intakeCohortDryRunFromUrl(deps, scopeOf(request), {
          url: json.source.url,
          transformation: json.cohort_transformation,
          signal,
        });
        if (!checked.checked) throw checked.refusal;
        return checked.result;
      }
      const parts = uploadParts(request, cohortUploadLimits(deps.config, 'api'));
      const checked = await intakeCohortDryRun(deps, scopeOf(request), { parts, source: 'api', signal });
      if (!checked.checked) throw checked.refusal;
      return checked.result;
    },
  );

  app.post(
    `${base}/mapping-suggestion`,
    {
      schema: {
        tags,
        summary: "Suggest a transformation config from a CSV's header row (multipart)",
        description:
          "Reads only the header row from the first 64 KB of cohort_file, then stops reading and answers: the columns, a config mapping what matched by name (phone_number from a phone-like column, each agent variable from the column named like it, ignoring case, spaces, '_' and '-'), what matched, and the required variables left to choose. Nothing is stored. The web console's mapper uses the same matching.",
        params: DeploymentParams,
        consumes: ['multipart/form-data'],
        response: { 200: MappingSuggestionSchema, 404: E, 415: E, 422: E },
      },
      config: {
        openapiBody: MappingSuggestionBodyDoc,
        errorCodes: routeErrorCodes(COHORT_ROUTE_ERRORS.mappingSuggestion),
        audit: false,
      },
    },
    async (request, reply) => {
      const parts = uploadParts(request, mappingSuggestionLimits(deps.config.cohorts.maxUploadBytes));
      const answer = await suggestCohortMapping(deps, scopeOf(request), { parts, source: 'api' });
      // The rest of the file is not parsed, so the connection cannot carry another request: it closes
      // once the client stops sending (lingering-close.ts), and what still comes is dropped.
      return reply.header('connection', 'close').send(answer);
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
      config: {
        openapiBody: CreateFromUrlBodyDoc,
        errorCodes: routeErrorCodes(COHORT_ROUTE_ERRORS.fromUrl),
        idempotent: true,
      },
    },
    async (request) => {
      const { name, source, cohort_transformation: transformation } = request.body;
      return service.acceptCohortFromUrl(deps, scopeOf(request), request.principal!, {
        name,
        url: source.url,
        transformation,
        recordCreated: recordCreated(request, cohortAnswer),
      });
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
      config: { errorCodes: routeErrorCodes(COHORT_ROUTE_ERRORS.stream), idempotent: true },
    },
    async (request) =>
      acceptCohortFromUsers(
        deps,
        scopeOf(request),
        request.principal!,
        request.body,
        recordCreated(request, cohortAnswer),
      ),
  );

  app.get(
    base,
    {
      schema: {
        tags,
        summary: 'List cohorts of a deployment, each with its live marker (serving_phones, is_live)',
        params: DeploymentParams,
        querystring: ListCohortsQuery,
        response: { 200: CohortPageSchema },
      },
      config: { errorCodes: routeErrorCodes(COHORT_ROUTE_ERRORS.list) },
    },
    async (request) => {
      const scope = scopeOf(request);
      const { offset, limit, sort_by: sortBy, sort_order: sortOrder, search } = request.query;
      const page = await service.listCohorts(deps, scope, { offset, limit, sortBy, sortOrder, search });
      return pageEnvelope(request, page.items, page.total, offset, limit);
    },
  );

  app.get(
    `${base}/:cohort_id`,
    {
      schema: {
        tags,
        summary: 'Get a cohort: status, counts once completed, and its live marker',
        params: CohortParams,
        response: { 200: CohortSchema },
      },
      config: { errorCodes: routeErrorCodes(COHORT_ROUTE_ERRORS.get) },
    },
    async (request) => service.viewCohort(deps, scopeOf(request), request.params.cohort_id),
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
      config: { errorCodes: routeErrorCodes(COHORT_ROUTE_ERRORS.files) },
    },
    async (request, reply) => {
      const file = await service.openCohortFile(
        deps,
        scopeOf(request),
        request.params.cohort_id,
        request.query.file_type,
      );
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
    {
      schema: {
        tags,
        summary: 'Delete a cohort and its contacts',
        params: CohortParams,
        response: { 200: DeletedSchema },
      },
      config: { errorCodes: routeErrorCodes(COHORT_ROUTE_ERRORS.delete) },
    },
    async (request) => {
      await service.deleteCohort(deps, scopeOf(request), request.params.cohort_id);
      return { deleted: true as const, id: request.params.cohort_id };
    },
  );
}
