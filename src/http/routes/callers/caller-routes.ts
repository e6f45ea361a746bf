import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { lookupCaller, type CallerDeps } from '../../../services/callers/caller-service.js';
import { routeErrorCodes } from '../../route-error-codes.js';
import { ErrorEnvelopeSchema, Timestamp } from '../../schemas.js';
import { scopeOf } from '../deployment-scope.js';

const CallerSchema = Type.Object(
  {
    found: Type.Boolean(),
    phone_number: Type.String({
      description:
        'The number in E.164; for a phone-shaped caller id libphonenumber does not accept (found: false), +<country code><number> as parsed, else its digits',
    }),
    cohort_id: Type.Optional(Type.String()),
    cohort_name: Type.Optional(Type.String()),
    user_identifier: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    app_variables: Type.Optional(Type.Record(Type.String(), Type.String())),
    app_overrides: Type.Optional(Type.Record(Type.String(), Type.String())),
    uploaded_at: Type.Optional(Timestamp),
  },
  { title: 'Caller' },
);

/** The call-time read the voice runtime makes for every inbound call. */
export async function callerRoutes(appBase: FastifyInstance, options: { deps: CallerDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/orgs/:org_id/workspaces/:workspace_id/deployments/:deployment_id/callers/:phone',
    {
      // Its own budget: a key's uploads and admin calls must never leave callers unidentified.
      // not_found: a workspace the key does not reach, or no such deployment (caller-service.ts);
      // invalid_phone_number: a value that cannot be a number at all.
      config: { rateBudget: 'lookup', errorCodes: routeErrorCodes(['invalid_phone_number']) },
      schema: {
        tags: ['callers'],
        summary: 'Look a caller up: the newest completed cohort of the deployment holding the number',
        description:
          'The number may be in any format; national forms use ?country= or else the deployment default_country. 200 with found:false when no cohort holds it, also for a phone-shaped caller id that is not a valid number; 422 invalid_phone_number only when the value cannot be a number.',
        params: Type.Object({
          org_id: Type.String(),
          workspace_id: Type.String(),
          deployment_id: Type.String(),
          phone: Type.String({ maxLength: 64 }),
        }),
        querystring: Type.Object(
          { country: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2}$' })) },
          { additionalProperties: false },
        ),
        response: { 200: CallerSchema, 422: ErrorEnvelopeSchema },
      },
    },
    async (request) => lookupCaller(options.deps, scopeOf(request), request.params.phone, request.query.country),
  );
}
