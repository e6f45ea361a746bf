import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Insertable, Kysely } from 'kysely';
import { insertAuditEvent } from '../../storage/repositories/audit-repository.js';
import type { AuditEventsTable, Database } from '../../storage/schema.js';
import { maskPhoneDigits } from '../log-redaction.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** False on a POST that writes nothing (a dry run, a suggestion): it is not audited. */
    audit?: boolean;
  }
  interface FastifyRequest {
    /** The id of what a successful write created, read from its answer. */
    auditResourceId: string | undefined;
  }
  interface FastifyInstance {
    /** Every write route registered after the audit plugin, and whether it is audited. */
    writeRoutes: WriteRoute[];
  }
}

export interface WriteRoute {
  method: string;
  url: string;
  /** False for routes that write nothing (`config: { audit: false }`). */
  audited: boolean;
  /** Reachable without a key or session (signing in): nobody to name, not audited. */
  public: boolean;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Answers larger than this are not read for the created resource's id (a page of call ids, say). */
const MAX_READ_ANSWER = 64 * 1024;

/** Path parameters naming a resource, most specific first. */
const ID_PARAMS = [
  'delivery_id',
  'webhook_id',
  'call_id',
  'cohort_id',
  'batch_id',
  'phone_number',
  'phone',
  'deployment_id',
  'agent_id',
  'phone_number_id',
  'key_id',
  'user_id',
  'workspace_id',
  'org_id',
];

/** Fields of an answer naming what a create made, most specific first. */
const ID_FIELDS = [
  'cohort_id',
  'erasure_id',
  'webhook_id',
  'delivery_id',
  'batch_id',
  'call_id',
  'key_id',
  'user_id',
  'deployment_id',
  // A phone number's id (the vendor's name); its answer also names its agent.
  '_id',
  'agent_id',
  'workspace_id',
  'org_id',
];

function audited(request: FastifyRequest): boolean {
  return (
    WRITES.has(request.method) &&
    request.principal !== null &&
    request.routeOptions.url !== undefined &&
    request.routeOptions.config.audit !== false
  );
}

function paramsOf(request: FastifyRequest): Record<string, string> {
  return (request.params ?? {}) as Record<string, string>;
}

/** A string field of the body or the query: the batch vendor's routes name their org and workspace there. */
function namedIn(request: FastifyRequest, field: string): string | undefined {
  for (const source of [request.body, request.query]) {
    if (source === null || typeof source !== 'object' || Array.isArray(source)) continue;
    const value = (source as Record<string, unknown>)[field];
    if (typeof value === 'string' && value.length <= 200) return value;
  }
  return undefined;
}

/** Digits with the separators a phone number is written with, and nothing else (a hex id has letters). */
const PHONE_ONLY = /^[+\d\s().-]{7,}$/;

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A value masked like the logs when it is a phone number (only then: ids keep their digits). */
function maskedIfPhone(value: string): string {
  return PHONE_ONLY.test(value) ? maskPhoneDigits(value) : value;
}

/** A URL segment or query value, masked whole when it is a phone number however it was escaped. */
function maskedPart(part: string, plusIsSpace = false): string {
  const value = decoded(plusIsSpace ? part.replaceAll('+', ' ') : part);
  return PHONE_ONLY.test(value) ? encodeURIComponent(maskPhoneDigits(value)) : part;
}

/** The requested path and query, each segment and value that is a phone number masked like the logs. */
export function maskedPath(url: string): string {
  const [pathPart = '', queryPart] = url.split(/\?(.*)/s, 2);
  const path = pathPart
    .split('/')
    .map((segment) => maskedPart(segment))
    .join('/');
  if (queryPart === undefined) return path;
  const query = queryPart
    .split('&')
    .map((pair) => {
      const at = pair.indexOf('=');
      return at === -1 ? pair : `${pair.slice(0, at + 1)}${maskedPart(pair.slice(at + 1), true)}`;
    })
    .join('&');
  return `${path}?${query}`;
}

function createdIdOf(payload: string): string | undefined {
  try {
    const body = JSON.parse(payload) as unknown;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
    for (const field of ID_FIELDS) {
      const value = (body as Record<string, unknown>)[field];
      if (typeof value === 'string' || typeof value === 'number') return String(value);
    }
  } catch {
    // Not JSON (a page, a file): nothing to read.
  }
  return undefined;
}

/** The event a finished write leaves: who, what, when and how it ended. */
function auditEventOf(request: FastifyRequest, status: number): Insertable<AuditEventsTable> {
  const principal = request.principal!;
  const params = paramsOf(request);
  const named = ID_PARAMS.find((name) => params[name] !== undefined);
  const resource = request.auditResourceId ?? (named === undefined ? undefined : params[named]);
  const key = principal.kind === 'key' ? principal : undefined;
  const route = request.routeOptions.url ?? '';
  // A key of exactly one workspace writes there when its request names none.
  const onlyWorkspace = key && key.workspaces !== '*' && key.workspaces.length === 1 ? key.workspaces[0] : undefined;
  const workspace = params.workspace_id ?? namedIn(request, 'workspace_id') ?? onlyWorkspace;
  return {
    event_id: `evt_${randomUUID().replaceAll('-', '')}`,
    occurred_at: new Date().toISOString(),
    // A key's event stays in its own org, even when it tried another org's path.
    org_id: key ? key.orgId : (params.org_id ?? namedIn(request, 'org_id') ?? null),
    workspace_id: workspace ?? null,
    actor: principal.kind === 'key' ? 'key' : 'master',
    key_id: key?.keyId ?? null,
    user_id: key?.userId ?? null,
    user_email: key?.userEmail ?? null,
    via: route.startsWith('/console') ? 'console' : 'api',
    method: request.method,
    route,
    path: maskedPath(request.url),
    resource_id: resource === undefined ? null : maskedIfPhone(resource),
    status,
    outcome: status < 400 ? 'success' : 'failure',
    error_code: status < 400 ? null : (request.errorCode ?? null),
    request_id: request.id,
  };
}

/**
 * Records every authenticated write (POST, PUT, PATCH, DELETE on a route, through the API or the
 * console) in `audit_events` just before its answer is sent, whatever the answer is, so a client
 * that reads the trail after its answer finds the event. A request without a valid key or session is
 * not recorded (nobody to name); routes that write nothing opt out with `config: { audit: false }`.
 * When the database cannot take the event, the event goes to the log at error level with every
 * field, and the answer goes out unchanged.
 */
export const auditPlugin = fp(async (app: FastifyInstance, options: { db: Kysely<Database> }) => {
  app.decorateRequest('auditResourceId', undefined);
  const writeRoutes: WriteRoute[] = [];
  app.decorate('writeRoutes', writeRoutes);
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { audit?: boolean; public?: boolean; consoleOpen?: boolean };
    for (const method of [route.method].flat())
      if (WRITES.has(method))
        writeRoutes.push({
          method,
          url: route.url,
          audited: config.audit !== false,
          public: config.public === true || config.consoleOpen === true,
        });
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (!audited(request)) return payload;
    if (reply.statusCode < 300 && typeof payload === 'string' && payload.length <= MAX_READ_ANSWER)
      request.auditResourceId = createdIdOf(payload);
    const event = auditEventOf(request, reply.statusCode);
    try {
      await insertAuditEvent(options.db, event);
    } catch (error) {
      request.log.error({ audit: event, err: error }, 'the audit event could not be recorded');
    }
    return payload;
  });
});
