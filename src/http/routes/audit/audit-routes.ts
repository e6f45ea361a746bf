import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { listOrgAuditEvents } from '../../../services/audit-service.js';
import type { Database } from '../../../storage/schema.js';
import { requireOrg } from '../../plugins/auth.js';
import { pageEnvelope } from '../../pagination.js';
import { routeErrorCodes } from '../../route-error-codes.js';
import { ErrorEnvelopeSchema, PageOf, PageQuerySchema, Timestamp } from '../../schemas.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

const AuditEventSchema = Type.Object(
  {
    event_id: Type.String(),
    occurred_at: Timestamp,
    org_id: Nullable(Type.String()),
    workspace_id: Nullable(Type.String({ description: "The workspace in the write's path, if any" })),
    actor: Type.Union([Type.Literal('key'), Type.Literal('master')]),
    key_id: Nullable(Type.String({ description: 'The API key (or the console session’s key) that wrote' })),
    user_id: Nullable(Type.String()),
    user_email: Nullable(Type.String()),
    via: Type.Union([Type.Literal('api'), Type.Literal('console')]),
    method: Type.String(),
    route: Type.String({ description: "The route's pattern, e.g. /v1/orgs/:org_id/api-keys" }),
    path: Type.String({ description: 'The path as requested, phone numbers masked like the logs' }),
    resource_id: Nullable(Type.String({ description: 'What the write created or changed (phone numbers masked)' })),
    status: Type.Integer({ description: 'The HTTP status answered' }),
    outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
    error_code: Nullable(Type.String({ description: 'The error code answered, for a failure' })),
    request_id: Type.String({ description: 'The X-Request-Id of the write, as in the logs' }),
  },
  { title: 'AuditEvent' },
);

const AuditQuery = Type.Object(
  {
    ...PageQuerySchema.properties,
    key_id: Type.Optional(Type.String({ maxLength: 100 })),
    method: Type.Optional(Type.Union(['POST', 'PUT', 'PATCH', 'DELETE'].map((m) => Type.Literal(m)))),
    route: Type.Optional(Type.String({ maxLength: 300, description: 'A route pattern, exactly as events show it' })),
    outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
    resource_id: Type.Optional(Type.String({ maxLength: 300 })),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'Events at or after this time' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'Events at or before this time' })),
  },
  { additionalProperties: false },
);

/** The org's audit trail: every write made with its keys (or the master key in its paths), newest first. */
export async function auditRoutes(appBase: FastifyInstance, options: { db: Kysely<Database> }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/orgs/:org_id/audit-events',
    {
      config: { errorCodes: routeErrorCodes([]) },
      schema: {
        tags: ['audit'],
        summary: 'List the audit trail of an org: every write, who made it, when and how it ended',
        description:
          "Newest first. A key limited to some workspaces sees the events of those workspaces and its own; a key of the whole org and the master key see every event of the org. Phone numbers in paths and resource ids are masked like the logs. Timestamps compare as ISO 8601 text, so give them in UTC with a 'Z'.",
        params: Type.Object({ org_id: Type.String() }),
        querystring: AuditQuery,
        response: { 200: PageOf(AuditEventSchema), 404: ErrorEnvelopeSchema },
      },
    },
    async (request) => {
      const principal = requireOrg(request, request.params.org_id);
      const { offset, limit, key_id, method, route, outcome, resource_id, since, until } = request.query;
      const page = await listOrgAuditEvents(
        options.db,
        principal,
        request.params.org_id,
        {
          ...(key_id !== undefined ? { keyId: key_id } : {}),
          ...(method !== undefined ? { method } : {}),
          ...(route !== undefined ? { route } : {}),
          ...(outcome !== undefined ? { outcome } : {}),
          ...(resource_id !== undefined ? { resourceId: resource_id } : {}),
          ...(since !== undefined ? { since: new Date(since).toISOString() } : {}),
          ...(until !== undefined ? { until: new Date(until).toISOString() } : {}),
        },
        { offset, limit },
      );
      return pageEnvelope(
        request,
        page.rows.map(({ seq: _seq, ...event }) => event),
        page.total,
        offset,
        limit,
      );
    },
  );
}
