import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import { E164_PATTERN, VARIABLE_NAME_PATTERN } from '../../../domain/tenancy/ids.js';
import { reachableWorkspaces } from '../../../domain/tenancy/principal.js';
import { retentionPolicyOf, setRetentionPolicy } from '../../../services/cohorts/cohort-retention.js';
import * as tenancy from '../../../services/tenancy-service.js';
import type { DeploymentRow } from '../../../storage/repositories/deployments-repository.js';
import type { Database } from '../../../storage/schema.js';
import { requireMaster, requireOrg, requireWorkspace } from '../../plugins/auth.js';
import { pageEnvelope } from '../../pagination.js';
import { ADMIN_ROUTE_ERRORS } from './admin-errors.js';
import { DeletedSchema, ErrorEnvelopeSchema, PageOf, PageQuerySchema, SlugId, Timestamp } from '../../schemas.js';

const E = ErrorEnvelopeSchema;
const Name = Type.String({ minLength: 1, maxLength: 200, description: 'Display name (any language)' });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const WorkspaceSchema = Type.Object(
  { org_id: Type.String(), workspace_id: Type.String(), name: Type.String(), created_at: Timestamp },
  { title: 'Workspace' },
);
const VariableSchema = Type.Object({
  name: Type.String(),
  required: Type.Boolean(),
  default: Nullable(Type.String()),
  description: Nullable(Type.String()),
});
const AgentSchema = Type.Object(
  {
    org_id: Type.String(),
    workspace_id: Type.String(),
    agent_id: Type.String(),
    name: Type.String(),
    variables: Type.Array(VariableSchema),
    languages: Type.Array(Type.String()),
    states: Type.Array(Type.String()),
    created_at: Timestamp,
  },
  { title: 'Agent' },
);
const DeploymentSchema = Type.Object(
  {
    org_id: Type.String(),
    workspace_id: Type.String(),
    deployment_id: Type.String(),
    name: Type.String(),
    agent_id: Type.String(),
    default_country: Nullable(Type.String()),
    created_at: Timestamp,
    cohort_retention_days: Nullable(
      Type.Integer({
        description: 'Cohorts created longer ago than this are deleted by the retention run; null keeps them',
      }),
    ),
    cohort_retention_strict: Type.Boolean({
      description: 'Delete old cohorts even when they are still the newest holder of a phone',
    }),
    cohort_retention_last_run_at: Nullable(Type.String({ description: 'When the retention run last ran' })),
    cohort_retention_next_run_at: Nullable(Type.String({ description: 'When the next retention run is due' })),
  },
  { title: 'Deployment' },
);
const RetentionFields = {
  cohort_retention_days: Type.Optional(
    Type.Union([Type.Integer({ minimum: 1, maximum: 3650 }), Type.Null()], {
      description: 'Delete cohorts created more than this many days ago (null: keep them all)',
    }),
  ),
  cohort_retention_strict: Type.Optional(
    Type.Boolean({
      description: 'Also delete old cohorts that are still the newest holder of a phone (default false)',
    }),
  ),
};
const UpdateDeploymentBody = Type.Object(RetentionFields, { additionalProperties: false, minProperties: 1 });
const PhoneNumberSchema = Type.Object(
  {
    _id: Type.String({ description: '24-hex id; the batch API lists these in callingNumbers' }),
    org_id: Type.String(),
    workspace_id: Type.String(),
    phone_number: Type.String(),
    agent_id: Type.String(),
    label: Nullable(Type.String()),
    created_at: Timestamp,
  },
  { title: 'PhoneNumber' },
);

const CreateWorkspaceBody = Type.Object(
  { workspace_id: Type.Optional(SlugId('Workspace id; generated when absent')), name: Name },
  { additionalProperties: false },
);
const CreateAgentBody = Type.Object(
  {
    agent_id: Type.Optional(SlugId('Agent id; generated when absent')),
    name: Name,
    variables: Type.Array(
      Type.Object(
        {
          name: Type.String({
            pattern: VARIABLE_NAME_PATTERN,
            description: 'Variable name, as cohort configs and batch files refer to it',
          }),
          required: Type.Optional(Type.Boolean()),
          default: Type.Optional(Type.String({ maxLength: 10_000 })),
          description: Type.Optional(Type.String({ maxLength: 1000 })),
        },
        { additionalProperties: false },
      ),
      { maxItems: 200 },
    ),
    languages: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 })),
    states: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 500 })),
  },
  { additionalProperties: false },
);
const CreateDeploymentBody = Type.Object(
  {
    deployment_id: Type.Optional(SlugId('Deployment id; generated when absent')),
    name: Name,
    agent_id: SlugId('The agent this deployment runs'),
    default_country: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z]{2}$',
        description: 'ISO 3166-1 alpha-2 country for national phone numbers, e.g. IN',
      }),
    ),
    ...RetentionFields,
  },
  { additionalProperties: false },
);
const CreatePhoneNumberBody = Type.Object(
  {
    phone_number: Type.String({ pattern: E164_PATTERN, description: 'The calling number in E.164, e.g. +14155550100' }),
    agent_id: SlugId('The agent that calls from this number'),
    label: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

const OrgParams = Type.Object({ org_id: Type.String() });
const WsParams = Type.Object({ org_id: Type.String(), workspace_id: Type.String() });
const AgentParams = Type.Object({ org_id: Type.String(), workspace_id: Type.String(), agent_id: Type.String() });
const DeploymentParams = Type.Object({
  org_id: Type.String(),
  workspace_id: Type.String(),
  deployment_id: Type.String(),
});
type DeploymentPath = { org_id: string; workspace_id: string; deployment_id: string };
const scopeOfParams = (params: DeploymentPath) => ({
  orgId: params.org_id,
  workspaceId: params.workspace_id,
  deploymentId: params.deployment_id,
});
/** A deployment as the API shows it: its row with the retention policy read as the schema says. */
const deploymentOf = (row: DeploymentRow) => ({ ...row, ...retentionPolicyOf(row) });

const NumberParams = Type.Object({
  org_id: Type.String(),
  workspace_id: Type.String(),
  phone_number_id: Type.String(),
});

/**
 * Workspaces and what they hold: agents, deployments and calling numbers. Writes need the master
 * key; an org key may read the workspaces it names (the console and CLI show agents this way).
 */
export async function workspaceRoutes(appBase: FastifyInstance, options: { db: Kysely<Database> }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = options;
  const deploymentView = async (scope: { orgId: string; workspaceId: string; deploymentId: string }) =>
    deploymentOf(await tenancy.getDeployment(db, scope.orgId, scope.workspaceId, scope.deploymentId));
  const tags = ['admin'];
  const ws = '/v1/orgs/:org_id/workspaces/:workspace_id';

  app.post(
    '/v1/orgs/:org_id/workspaces',
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.createWorkspace },
      schema: {
        tags,
        summary: 'Create a workspace',
        params: OrgParams,
        body: CreateWorkspaceBody,
        response: { 201: WorkspaceSchema, 403: E, 409: E },
      },
    },
    async (request, reply) => {
      requireMaster(request, request.params.org_id);
      return reply.code(201).send(await tenancy.createWorkspace(db, request.params.org_id, request.body));
    },
  );
  app.get(
    '/v1/orgs/:org_id/workspaces',
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.listWorkspaces },
      schema: {
        tags,
        summary: 'List workspaces this key reaches',
        params: OrgParams,
        querystring: PageQuerySchema,
        response: { 200: PageOf(WorkspaceSchema) },
      },
    },
    async (request) => {
      const principal = requireOrg(request, request.params.org_id);
      const { offset, limit } = request.query;
      const page = await tenancy.listWorkspaces(db, request.params.org_id, reachableWorkspaces(principal), {
        offset,
        limit,
      });
      return pageEnvelope(request, page.items, page.total, offset, limit);
    },
  );
  app.get(
    ws,
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.getWorkspace },
      schema: { tags, summary: 'Get a workspace', params: WsParams, response: { 200: WorkspaceSchema } },
    },
    async (request) => {
      requireWorkspace(request, request.params.org_id, request.params.workspace_id);
      return tenancy.getWorkspace(db, request.params.org_id, request.params.workspace_id);
    },
  );
  app.delete(
    ws,
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.deleteWorkspace },
      schema: {
        tags,
        summary: 'Delete a workspace and everything in it',
        params: WsParams,
        response: { 200: DeletedSchema, 403: E },
      },
    },
    async (request) => {
      requireWorkspace(request, request.params.org_id, request.params.workspace_id);
      requireMaster(request);
      await tenancy.deleteWorkspace(db, request.params.org_id, request.params.workspace_id);
      return { deleted: true as const, id: request.params.workspace_id };
    },
  );

  app.post(
    `${ws}/agents`,
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.createAgent },
      schema: {
        tags,
        summary: 'Create an agent with its declared variables',
        params: WsParams,
        body: CreateAgentBody,
        response: { 201: AgentSchema, 403: E, 409: E },
      },
    },
    async (request, reply) => {
      requireWorkspace(request, request.params.org_id, request.params.workspace_id);
      requireMaster(request);
      return reply
        .code(201)
        .send(await tenancy.createAgent(db, request.params.org_id, request.params.workspace_id, request.body));
    },
  );
  app.get(
    `${ws}/agents`,
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.listAgents },
      schema: {
        tags,
        summary: 'List agents',
        params: WsParams,
        querystring: PageQuerySchema,
        response: { 200: PageOf(AgentSchema) },
      },
    },
    async (request) => {
      requireWorkspace(request, request.params.org_id, request.params.workspace_id);
      const { offset, limit } = request.query;
      const page = await tenancy.listAgents(db, request.params.org_id, request.params.workspace_id, { offset, limit });
      return pageEnvelope(request, page.items, page.total, offset, limit);
    },
  );
  app.get(
    `${ws}/agents/:agent_id`,
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.getAgent },
      schema: { tags, summary: 'Get an agent', params: AgentParams, response: { 200: AgentSchema } },
    },
    async (request) => {
      requireWorkspace(request, request.params.org_id, request.params.workspace_id);
      return tenancy.getAgent(db, request.params.org_id, request.params.workspace_id, request.params.agent_id);
    },
  );
  app.delete(
    `${ws}/agents/:agent_id`,
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.deleteAgent },
      schema: {
        tags,
        summary: 'Delete an agent no deployment or number uses',
        params: AgentParams,
        response: { 200: DeletedSchema, 403: E, 409: E },
      },
    },
    async (request) => {
      requireWorkspace(request, request.params.org_id, request.params.workspace_id);
      requireMaster(request);
      await tenancy.deleteAgent(db, request.params.org_id, request.params.workspace_id, request.params.agent_id);
      return { deleted: true as const, id: request.params.agent_id };
    },
  );

  app.post(
    `${ws}/deployments`,
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.createDeployment },
      schema: {
        tags,
        summary: 'Create a deployment of an agent',
        params: WsParams,
        body: CreateDeploymentBody,
        response: { 201: DeploymentSchema, 403: E, 409: E },
      },
    },
    async (request, reply) => {
      requireWorkspace(request, request.params.org_id, request.params.workspace_id);
      requireMaster(request);
      const { cohort_retention_days: days, cohort_retention_strict: strict, ...fields } = request.body;
      const scope = {
        orgId: request.params.org_id,
        workspaceId: request.params.workspace_id,
        deploymentId: (await tenancy.createDeployment(db, request.params.org_id, request.params.workspace_id, fields))
          .deployment_id,
      };
      await setRetentionPolicy({ db }, scope, { days, strict }, new Date());
      return reply.code(201).send(await deploymentView(scope));
    },
  );
  app.get(
    `${ws}/deployments`,
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.listDeployments },
      schema: {
        tags,
        summary: 'List deployments',
        params: WsParams,
        querystring: PageQuerySchema,
        response: { 200: PageOf(DeploymentSchema) },
      },
    },
    async (request) => {
      requireWorkspace(request, request.params.org_id, request.params.workspace_id);
      const { offset, limit } = request.query;
      const page = await tenancy.listDeployments(db, request.params.org_id, request.params.workspace_id, {
        offset,
        limit,
      });
      return pageEnvelope(request, page.items.map(deploymentOf), page.total, offset, limit);
    },
  );
  app.get(
    `${ws}/deployments/:deployment_id`,
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.getDeployment },
      schema: { tags, summary: 'Get a deployment', params: DeploymentParams, response: { 200: DeploymentSchema } },
    },
    async (request) => {
      requireWorkspace(request, request.params.org_id, request.params.workspace_id);
      return deploymentView(scopeOfParams(request.params));
    },
  );
  app.patch(
    `${ws}/deployments/:deployment_id`,
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.updateDeployment },
      schema: {
        tags,
        summary: "Set a deployment's cohort retention",
        description:
          'cohort_retention_days: cohorts created more than this many days ago are deleted, with their contacts and files, by a run due every ROSTER_RETENTION_INTERVAL_MINUTES; a cohort that is still the newest holder of some phone is kept unless cohort_retention_strict is true, so lookups answer as before. null removes the policy. A new policy runs at once.',
        params: DeploymentParams,
        body: UpdateDeploymentBody,
        response: { 200: DeploymentSchema, 403: E },
      },
    },
    async (request) => {
      requireWorkspace(request, request.params.org_id, request.params.workspace_id);
      requireMaster(request);
      const scope = scopeOfParams(request.params);
      const { cohort_retention_days: days, cohort_retention_strict: strict } = request.body;
      await setRetentionPolicy({ db }, scope, { days, strict }, new Date());
      return deploymentView(scope);
    },
  );
  app.delete(
    `${ws}/deployments/:deployment_id`,
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.deleteDeployment },
      schema: {
        tags,
        summary: 'Delete a deployment',
        params: DeploymentParams,
        response: { 200: DeletedSchema, 403: E },
      },
    },
    async (request) => {
      requireWorkspace(request, request.params.org_id, request.params.workspace_id);
      requireMaster(request);
      await tenancy.deleteDeployment(
        db,
        request.params.org_id,
        request.params.workspace_id,
        request.params.deployment_id,
      );
      return { deleted: true as const, id: request.params.deployment_id };
    },
  );

  app.post(
    `${ws}/phone-numbers`,
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.createPhoneNumber },
      schema: {
        tags,
        summary: 'Register a calling number for an agent',
        params: WsParams,
        body: CreatePhoneNumberBody,
        response: { 201: PhoneNumberSchema, 403: E, 409: E },
      },
    },
    async (request, reply) => {
      requireWorkspace(request, request.params.org_id, request.params.workspace_id);
      requireMaster(request);
      return reply
        .code(201)
        .send(await tenancy.createPhoneNumber(db, request.params.org_id, request.params.workspace_id, request.body));
    },
  );
  app.get(
    `${ws}/phone-numbers`,
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.listPhoneNumbers },
      schema: {
        tags,
        summary: 'List calling numbers',
        params: WsParams,
        querystring: PageQuerySchema,
        response: { 200: PageOf(PhoneNumberSchema) },
      },
    },
    async (request) => {
      requireWorkspace(request, request.params.org_id, request.params.workspace_id);
      const { offset, limit } = request.query;
      const page = await tenancy.listPhoneNumbers(db, request.params.org_id, request.params.workspace_id, {
        offset,
        limit,
      });
      return pageEnvelope(request, page.items, page.total, offset, limit);
    },
  );
  app.get(
    `${ws}/phone-numbers/:phone_number_id`,
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.getPhoneNumber },
      schema: { tags, summary: 'Get a calling number', params: NumberParams, response: { 200: PhoneNumberSchema } },
    },
    async (request) => {
      requireWorkspace(request, request.params.org_id, request.params.workspace_id);
      return tenancy.getPhoneNumber(
        db,
        request.params.org_id,
        request.params.workspace_id,
        request.params.phone_number_id,
      );
    },
  );
  app.delete(
    `${ws}/phone-numbers/:phone_number_id`,
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.deletePhoneNumber },
      schema: {
        tags,
        summary: 'Remove a calling number',
        params: NumberParams,
        response: { 200: DeletedSchema, 403: E },
      },
    },
    async (request) => {
      requireWorkspace(request, request.params.org_id, request.params.workspace_id);
      requireMaster(request);
      await tenancy.deletePhoneNumber(
        db,
        request.params.org_id,
        request.params.workspace_id,
        request.params.phone_number_id,
      );
      return { deleted: true as const, id: request.params.phone_number_id };
    },
  );
}
