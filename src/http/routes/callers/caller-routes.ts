import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { lookupCaller, type CallerDeps } from '../../../services/callers/caller-service.js';
import { deleteCaller, putCaller } from '../../../services/callers/caller-writes.js';
import type { CohortDeps } from '../../../services/cohorts/cohort-deps.js';
import { routeErrorCodes, WRITE_ERROR_CODES } from '../../route-error-codes.js';
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

const CallerParams = Type.Object({
  org_id: Type.String(),
  workspace_id: Type.String(),
  deployment_id: Type.String(),
  phone: Type.String({ maxLength: 64 }),
});

const CountryQuery = Type.Object(
  { country: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2}$' })) },
  { additionalProperties: false },
);

const Values = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
  maxProperties: 500,
});

const PutCallerBody = Type.Object(
  {
    user_identifier: Type.Optional(Type.String({ maxLength: 1000 })),
    app_variables: Type.Optional(Values),
    app_overrides: Type.Optional(Values),
  },
  { additionalProperties: false },
);

const PATH = '/orgs/:org_id/workspaces/:workspace_id/deployments/:deployment_id/callers/:phone';

/** The call-time read the voice runtime makes for every inbound call, and the writes of one caller. */
export async function callerRoutes(
  appBase: FastifyInstance,
  options: { deps: CallerDeps & CohortDeps },
): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  app.put(
    PATH,
    {
      config: {
        errorCodes: routeErrorCodes([
          ...WRITE_ERROR_CODES,
          'caller_rejected',
          'unknown_app_variable',
          'unknown_app_override',
          'required_variable_not_mapped',
          'too_many_columns',
        ]),
      },
      schema: {
        tags: ['callers'],
        summary: "Set one caller's variables and overrides without a file: live at once, newest of all cohorts",
        description:
          "The number (national forms with the deployment's default_country) and the values are checked as a row of a cohort file is: unknown variables, a missing required one or an invalid number are refused (422). The caller is stored as a completed cohort of one contact named 'Single caller', so lookups answer it at once and it wins over every earlier cohort; a later upload that holds the number wins over it.",
        params: CallerParams,
        body: PutCallerBody,
        response: { 200: CallerSchema, 404: ErrorEnvelopeSchema, 422: ErrorEnvelopeSchema },
      },
    },
    async (request) =>
      putCaller(options.deps, scopeOf(request), request.principal!, request.params.phone, request.body),
  );

  app.delete(
    PATH,
    {
      config: { errorCodes: routeErrorCodes([...WRITE_ERROR_CODES, 'invalid_phone_number']) },
      schema: {
        tags: ['callers'],
        summary: 'Remove a number from every cohort of the deployment: lookups answer found: false at once',
        description:
          "National forms are read with ?country= or the deployment's default_country. Each cohort that held the number counts one valid record less. deleted is false when no cohort held it.",
        params: CallerParams,
        querystring: CountryQuery,
        response: {
          200: Type.Object({
            phone_number: Type.String(),
            deleted: Type.Boolean(),
            cohort_ids: Type.Array(Type.String(), { description: 'The cohorts the number was removed from' }),
          }),
          404: ErrorEnvelopeSchema,
          422: ErrorEnvelopeSchema,
        },
      },
    },
    async (request) => deleteCaller(options.deps, scopeOf(request), request.params.phone, request.query.country),
  );

  app.get(
    PATH,
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
        params: CallerParams,
        querystring: CountryQuery,
        response: { 200: CallerSchema, 422: ErrorEnvelopeSchema },
      },
    },
    async (request) => lookupCaller(options.deps, scopeOf(request), request.params.phone, request.query.country),
  );
}
