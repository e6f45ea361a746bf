import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { describePrincipal } from '../../../services/identity-service.js';
import type { Database } from '../../../storage/schema.js';
import { principalOf } from '../../plugins/auth.js';
import { COMMON_ERROR_CODES } from '../../route-error-codes.js';
import { ErrorEnvelopeSchema } from '../../schemas.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const MeSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('api_key'), Type.Literal('master')], {
      description: 'api_key: an org API key; master: the instance master key',
    }),
    org_id: Nullable(Type.String({ description: "The key's org; null for the master key, which reaches every org" })),
    key_id: Nullable(Type.String({ description: "The key's id; null for the master key" })),
    user_id: Nullable(
      Type.String({
        description:
          'The user the key acts for: the batch upload userId. Null for the master key, which acts for no user',
      }),
    ),
    email: Nullable(Type.String({ description: "The user's email (a cohort's created_by)" })),
    all_workspaces: Type.Boolean({
      description: "True when the key reaches every workspace of its org (or, the master key's, of every org)",
    }),
    workspaces: Type.Array(Type.Object({ workspace_id: Type.String(), name: Type.String() }), {
      description: 'The workspaces the key reaches, by id; empty for the master key',
    }),
  },
  { title: 'Me' },
);

/**
 * What GET /v1/me answers besides 200: the common codes but validation_failed (no params, query or
 * body to fail a schema) and not_found (it names nothing; identity-service.ts raises nothing).
 */
const ME_ERROR_CODES = COMMON_ERROR_CODES.filter((code) => code !== 'validation_failed' && code !== 'not_found');

/** GET /v1/me: who the presented key is, so a client can fill the ids it needs without asking for them. */
export async function meRoutes(appBase: FastifyInstance, options: { db: Kysely<Database> }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/me',
    {
      config: { errorCodes: ME_ERROR_CODES },
      schema: {
        tags: ['admin'],
        summary: "The key's org, user and the workspaces it reaches",
        description:
          'Any key. An org API key answers its org, the user it acts for (user_id is the batch API userId) and its workspaces; the master key answers kind "master" with no org or user.',
        response: { 200: MeSchema, 401: ErrorEnvelopeSchema },
      },
    },
    async (request) => describePrincipal(options.db, principalOf(request)),
  );
}
