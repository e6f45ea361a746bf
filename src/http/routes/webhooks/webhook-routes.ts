import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { WEBHOOK_EVENTS, type WebhookDeps } from '../../../services/webhooks/webhook-service.js';
import * as service from '../../../services/webhooks/webhook-service.js';
import { requireWorkspace } from '../../plugins/auth.js';
import { pageEnvelope } from '../../pagination.js';
import { routeErrorCodes, WRITE_ERROR_CODES } from '../../route-error-codes.js';
import { DeletedSchema, ErrorEnvelopeSchema, PageOf, PageQuerySchema, Timestamp } from '../../schemas.js';

const E = ErrorEnvelopeSchema;
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const WorkspaceParams = Type.Object({ org_id: Type.String(), workspace_id: Type.String() });
const WebhookParams = Type.Object({ ...WorkspaceParams.properties, webhook_id: Type.String() });
const DeliveryParams = Type.Object({ ...WebhookParams.properties, delivery_id: Type.String() });

const EventType = Type.Union(
  WEBHOOK_EVENTS.map((e) => Type.Literal(e)),
  { description: 'An event a webhook can subscribe to' },
);

const WebhookSchema = Type.Object(
  {
    webhook_id: Type.String(),
    url: Type.String(),
    events: Type.Array(Type.String()),
    created_at: Timestamp,
    secret_hint: Type.String({ description: "The secret's last four characters" }),
  },
  { title: 'Webhook' },
);

const CreatedWebhookSchema = Type.Object(
  {
    ...WebhookSchema.properties,
    secret: Type.String({ description: 'Signs every delivery (Roster-Signature). Shown this once: keep it.' }),
  },
  { title: 'CreatedWebhook' },
);

const CreateWebhookBody = Type.Object(
  {
    url: Type.String({ maxLength: 2048, description: 'http(s), a public address (checked again at each delivery)' }),
    events: Type.Array(EventType, { minItems: 1, maxItems: WEBHOOK_EVENTS.length, uniqueItems: true }),
    secret: Type.Optional(
      Type.String({
        minLength: 16,
        maxLength: 200,
        pattern: '^[\\x21-\\x7E]+$',
        description: 'Your own signing secret (16–200 printable characters); by default Roster makes one',
      }),
    ),
  },
  { additionalProperties: false },
);

const DeliverySchema = Type.Object(
  {
    delivery_id: Type.String(),
    webhook_id: Type.String(),
    event_id: Type.String(),
    event_type: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
    attempts: Type.Array(
      Type.Object({
        attempt: Type.Integer(),
        started_at: Timestamp,
        duration_ms: Type.Integer(),
        status_code: Nullable(Type.Integer({ description: "The receiver's HTTP status" })),
        error: Nullable(
          Type.String({ description: 'Why the attempt failed (a status, a timeout, a refused address)' }),
        ),
      }),
    ),
    next_attempt_at: Nullable(Type.String({ description: 'When a pending delivery is tried next' })),
    created_at: Timestamp,
    event: Type.Unknown({ description: 'The body as sent: {id, type, created_at, data}' }),
  },
  { title: 'WebhookDelivery' },
);

/** Webhooks of a workspace: subscribe a URL to events, read each delivery and its attempts, resend. */
export async function webhookRoutes(appBase: FastifyInstance, options: { deps: WebhookDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const { deps } = options;
  const tags = ['webhooks'];
  const base = '/v1/orgs/:org_id/workspaces/:workspace_id/webhooks';

  app.post(
    base,
    {
      schema: {
        tags,
        summary: 'Subscribe a URL to events of the workspace',
        description:
          'Each event is POSTed as JSON {id, type, created_at, data} (data: the resource as its GET answers it), signed in Roster-Signature (t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">), and retried with exponential backoff for up to ROSTER_WEBHOOK_RETRY_HOURS on a non-2xx answer or no answer within 10 s. The URL must be http(s) and resolve to public addresses only.',
        params: WorkspaceParams,
        body: CreateWebhookBody,
        response: { 201: CreatedWebhookSchema, 404: E, 422: E },
      },
      config: { errorCodes: routeErrorCodes([...WRITE_ERROR_CODES, 'webhook_url_refused']) },
    },
    async (request, reply) => {
      const { org_id: orgId, workspace_id: workspaceId } = request.params;
      requireWorkspace(request, orgId, workspaceId);
      const created = await service.createWebhook(deps, orgId, workspaceId, request.body);
      return reply.code(201).send(created);
    },
  );

  app.get(
    base,
    {
      schema: {
        tags,
        summary: "List the workspace's webhooks",
        params: WorkspaceParams,
        response: { 200: Type.Object({ items: Type.Array(WebhookSchema) }), 404: E },
      },
      config: { errorCodes: routeErrorCodes([]) },
    },
    async (request) => {
      const { org_id: orgId, workspace_id: workspaceId } = request.params;
      requireWorkspace(request, orgId, workspaceId);
      return { items: await service.listWebhooks(deps, orgId, workspaceId) };
    },
  );

  app.get(
    `${base}/:webhook_id`,
    {
      schema: { tags, summary: 'One webhook', params: WebhookParams, response: { 200: WebhookSchema, 404: E } },
      config: { errorCodes: routeErrorCodes([]) },
    },
    async (request) => {
      const { org_id: orgId, workspace_id: workspaceId, webhook_id: webhookId } = request.params;
      requireWorkspace(request, orgId, workspaceId);
      return service.getWebhook(deps, orgId, workspaceId, webhookId);
    },
  );

  app.delete(
    `${base}/:webhook_id`,
    {
      schema: {
        tags,
        summary: 'Delete a webhook, with its deliveries (pending ones are not sent)',
        params: WebhookParams,
        response: { 200: DeletedSchema, 404: E },
      },
      config: { errorCodes: routeErrorCodes([...WRITE_ERROR_CODES]) },
    },
    async (request) => {
      const { org_id: orgId, workspace_id: workspaceId, webhook_id: webhookId } = request.params;
      requireWorkspace(request, orgId, workspaceId);
      await service.deleteWebhook(deps, orgId, workspaceId, webhookId);
      return { deleted: true as const, id: webhookId };
    },
  );

  app.get(
    `${base}/:webhook_id/deliveries`,
    {
      schema: {
        tags,
        summary: "A webhook's deliveries, newest first, each with every attempt",
        params: WebhookParams,
        querystring: PageQuerySchema,
        response: { 200: PageOf(DeliverySchema), 404: E },
      },
      config: { errorCodes: routeErrorCodes([]) },
    },
    async (request) => {
      const { org_id: orgId, workspace_id: workspaceId, webhook_id: webhookId } = request.params;
      requireWorkspace(request, orgId, workspaceId);
      const { offset, limit } = request.query;
      const page = await service.listDeliveries(deps, orgId, workspaceId, webhookId, { offset, limit });
      return pageEnvelope(request, page.items, page.total, offset, limit);
    },
  );

  app.post(
    `${base}/:webhook_id/deliveries/:delivery_id/resend`,
    {
      schema: {
        tags,
        summary: 'Send a delivery again now (a succeeded or failed one), retried from there like a new one',
        params: DeliveryParams,
        response: {
          202: Type.Object({ delivery_id: Type.String(), status: Type.Literal('pending') }),
          404: E,
          409: E,
        },
      },
      config: { errorCodes: routeErrorCodes([...WRITE_ERROR_CODES, 'delivery_pending']) },
    },
    async (request, reply) => {
      const { org_id: orgId, workspace_id: workspaceId, webhook_id: webhookId, delivery_id: id } = request.params;
      requireWorkspace(request, orgId, workspaceId);
      return reply.code(202).send(await service.resendDelivery(deps, orgId, workspaceId, webhookId, id));
    },
  );

  app.post(
    `${base}/:webhook_id/test`,
    {
      schema: {
        tags,
        summary: `Send a ${service.TEST_EVENT} event to the webhook now, whatever it subscribes to`,
        params: WebhookParams,
        response: { 202: Type.Object({ delivery_id: Type.String(), event_id: Type.String() }), 404: E },
      },
      config: { errorCodes: routeErrorCodes([...WRITE_ERROR_CODES]) },
    },
    async (request, reply) => {
      const { org_id: orgId, workspace_id: workspaceId, webhook_id: webhookId } = request.params;
      requireWorkspace(request, orgId, workspaceId);
      return reply.code(202).send(await service.sendTestEvent(deps, orgId, workspaceId, webhookId));
    },
  );
}
