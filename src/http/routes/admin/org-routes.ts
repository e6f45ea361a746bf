import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import * as keyService from '../../../services/key-service.js';
import * as tenancy from '../../../services/tenancy-service.js';
import type { KeyChanges } from '../../../storage/key-changes.js';
import type { Database } from '../../../storage/schema.js';
import { requireMaster, requireOrg } from '../../plugins/auth.js';
import { pageEnvelope } from '../../pagination.js';
import { ADMIN_ROUTE_ERRORS } from './admin-errors.js';
import {
  DeletedSchema,
  ErrorEnvelopeSchema,
  Hex24Id,
  PageOf,
  PageQuerySchema,
  SlugId,
  Timestamp,
} from '../../schemas.js';

const Name = Type.String({ minLength: 1, maxLength: 200, description: 'Display name (any language)' });

const OrgSchema = Type.Object({ org_id: Type.String(), name: Type.String(), created_at: Timestamp }, { title: 'Org' });
const UserSchema = Type.Object(
  {
    user_id: Type.String(),
    org_id: Type.String(),
    email: Type.String(),
    name: Type.Union([Type.String(), Type.Null()]),
    created_at: Timestamp,
  },
  { title: 'User' },
);
const WorkspacesScope = Type.Union(
  [Type.Literal('*'), Type.Array(SlugId('Workspace id'), { minItems: 1, maxItems: 1000 })],
  {
    description: '"*" for every workspace of the org, or a list of workspace ids',
  },
);
const ApiKeySchema = Type.Object(
  {
    key_id: Type.String(),
    org_id: Type.String(),
    user_id: Type.String(),
    name: Type.String(),
    prefix: Type.String({ description: 'The first characters of the key, to recognise it' }),
    workspaces: Type.Union([Type.Literal('*'), Type.Array(Type.String())]),
    created_at: Timestamp,
  },
  { title: 'ApiKey' },
);
const CreatedApiKeySchema = Type.Intersect([
  ApiKeySchema,
  Type.Object({ key: Type.String({ description: 'The secret, shown only in this response' }) }),
]);

const CreateOrgBody = Type.Object(
  { org_id: Type.Optional(SlugId('Org id; generated when absent')), name: Name },
  { additionalProperties: false },
);
const CreateUserBody = Type.Object(
  { email: Type.String({ format: 'email', maxLength: 320 }), name: Type.Optional(Name) },
  { additionalProperties: false },
);
const CreateApiKeyBody = Type.Object(
  {
    name: Name,
    user_id: Hex24Id('The user the key acts for (its email becomes created_by)'),
    workspaces: WorkspacesScope,
  },
  { additionalProperties: false },
);

const OrgParams = Type.Object({ org_id: Type.String() });
const UserParams = Type.Object({ org_id: Type.String(), user_id: Type.String() });
const KeyParams = Type.Object({ org_id: Type.String(), key_id: Type.String() });

/** Orgs, their users and their API keys: the master key's admin API. */
export async function orgRoutes(
  appBase: FastifyInstance,
  options: { db: Kysely<Database>; keyChanges: KeyChanges },
): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = options;
  const tags = ['admin'];

  app.post(
    '/v1/orgs',
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.createOrg },
      schema: {
        tags,
        summary: 'Create an org',
        body: CreateOrgBody,
        response: { 201: OrgSchema, 403: ErrorEnvelopeSchema, 409: ErrorEnvelopeSchema },
      },
    },
    async (request, reply) => {
      requireMaster(request);
      return reply.code(201).send(await tenancy.createOrg(db, request.body));
    },
  );
  app.get(
    '/v1/orgs',
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.listOrgs },
      schema: {
        tags,
        summary: 'List orgs',
        querystring: PageQuerySchema,
        response: { 200: PageOf(OrgSchema), 403: ErrorEnvelopeSchema },
      },
    },
    async (request) => {
      requireMaster(request);
      const { offset, limit } = request.query;
      const page = await tenancy.listOrgs(db, { offset, limit });
      return pageEnvelope(request, page.items, page.total, offset, limit);
    },
  );
  app.get(
    '/v1/orgs/:org_id',
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.getOrg },
      schema: { tags, summary: 'Get an org', params: OrgParams, response: { 200: OrgSchema } },
    },
    async (request) => {
      requireOrg(request, request.params.org_id);
      return tenancy.getOrg(db, request.params.org_id);
    },
  );
  app.delete(
    '/v1/orgs/:org_id',
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.deleteOrg },
      schema: {
        tags,
        summary: 'Delete an org and everything in it',
        params: OrgParams,
        response: { 200: DeletedSchema, 403: ErrorEnvelopeSchema },
      },
    },
    async (request) => {
      requireMaster(request, request.params.org_id);
      await tenancy.deleteOrg(db, request.params.org_id);
      options.keyChanges.changed();
      return { deleted: true as const, id: request.params.org_id };
    },
  );

  app.post(
    '/v1/orgs/:org_id/users',
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.createUser },
      schema: {
        tags,
        summary: 'Create a user (user_id is the batch API userId)',
        params: OrgParams,
        body: CreateUserBody,
        response: { 201: UserSchema, 403: ErrorEnvelopeSchema, 409: ErrorEnvelopeSchema },
      },
    },
    async (request, reply) => {
      requireMaster(request, request.params.org_id);
      return reply.code(201).send(await tenancy.createUser(db, request.params.org_id, request.body));
    },
  );
  app.get(
    '/v1/orgs/:org_id/users',
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.listUsers },
      schema: {
        tags,
        summary: 'List users',
        params: OrgParams,
        querystring: PageQuerySchema,
        response: { 200: PageOf(UserSchema), 403: ErrorEnvelopeSchema },
      },
    },
    async (request) => {
      requireMaster(request, request.params.org_id);
      const { offset, limit } = request.query;
      const page = await tenancy.listUsers(db, request.params.org_id, { offset, limit });
      return pageEnvelope(request, page.items, page.total, offset, limit);
    },
  );
  app.get(
    '/v1/orgs/:org_id/users/:user_id',
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.getUser },
      schema: {
        tags,
        summary: 'Get a user',
        params: UserParams,
        response: { 200: UserSchema, 403: ErrorEnvelopeSchema },
      },
    },
    async (request) => {
      requireMaster(request, request.params.org_id);
      return tenancy.getUser(db, request.params.org_id, request.params.user_id);
    },
  );
  app.delete(
    '/v1/orgs/:org_id/users/:user_id',
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.deleteUser },
      schema: {
        tags,
        summary: 'Delete a user and their keys',
        params: UserParams,
        response: { 200: DeletedSchema, 403: ErrorEnvelopeSchema },
      },
    },
    async (request) => {
      requireMaster(request, request.params.org_id);
      await tenancy.deleteUser(db, request.params.org_id, request.params.user_id);
      options.keyChanges.changed();
      return { deleted: true as const, id: request.params.user_id };
    },
  );

  app.post(
    '/v1/orgs/:org_id/api-keys',
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.createApiKey },
      schema: {
        tags,
        summary: 'Create an API key (the secret is returned once)',
        params: OrgParams,
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKeySchema, 403: ErrorEnvelopeSchema },
      },
    },
    async (request, reply) => {
      requireMaster(request, request.params.org_id);
      return reply.code(201).send(await keyService.createApiKey(db, request.params.org_id, request.body));
    },
  );
  app.get(
    '/v1/orgs/:org_id/api-keys',
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.listApiKeys },
      schema: {
        tags,
        summary: 'List API keys (never their secrets)',
        params: OrgParams,
        querystring: PageQuerySchema,
        response: { 200: PageOf(ApiKeySchema), 403: ErrorEnvelopeSchema },
      },
    },
    async (request) => {
      requireMaster(request, request.params.org_id);
      const { offset, limit } = request.query;
      const page = await keyService.listApiKeys(db, request.params.org_id, { offset, limit });
      return pageEnvelope(request, page.items, page.total, offset, limit);
    },
  );
  app.get(
    '/v1/orgs/:org_id/api-keys/:key_id',
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.getApiKey },
      schema: {
        tags,
        summary: 'Get an API key',
        params: KeyParams,
        response: { 200: ApiKeySchema, 403: ErrorEnvelopeSchema },
      },
    },
    async (request) => {
      requireMaster(request, request.params.org_id);
      return keyService.getApiKey(db, request.params.org_id, request.params.key_id);
    },
  );
  app.delete(
    '/v1/orgs/:org_id/api-keys/:key_id',
    {
      config: { errorCodes: ADMIN_ROUTE_ERRORS.revokeApiKey },
      schema: {
        tags,
        summary: 'Revoke an API key (effective at once)',
        params: KeyParams,
        response: { 200: DeletedSchema, 403: ErrorEnvelopeSchema },
      },
    },
    async (request) => {
      requireMaster(request, request.params.org_id);
      await keyService.revokeApiKey(db, request.params.org_id, request.params.key_id);
      options.keyChanges.changed();
      return { deleted: true as const, id: request.params.key_id };
    },
  );
}
