import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../../errors.js';
import { canReachOrg, canReachWorkspace, type Principal } from '../../domain/tenancy/principal.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Routes reachable without a key and without a rate limit: health, readiness, the API description. */
    public?: boolean;
    /** Routes that authenticate with a console session instead of a key; still rate-limited. */
    session?: boolean;
  }
}

/** The key a request presents, from X-API-Key or Authorization: Bearer. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader) return fromHeader.trim();
  const authorization = request.headers.authorization;
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  return match?.[1];
}

function isPublic(request: FastifyRequest): boolean {
  const config = request.routeOptions.config;
  return (
    config?.public === true ||
    config?.session === true ||
    request.routeOptions.url === undefined ||
    request.url.startsWith('/docs')
  );
}

export interface AuthOptions {
  /** The presented secret's principal, or undefined (`cachedAuthenticator` in key-service.ts). */
  authenticate(secret: string): Promise<Principal | undefined>;
}

/** Resolves the caller's key on every non-public route; 401 when missing or wrong. */
export const authPlugin = fp<AuthOptions>(async (app: FastifyInstance, options) => {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    if (isPublic(request)) return;
    const secret = presentedKey(request);
    if (!secret)
      throw new AppError(
        'unauthorized',
        'Missing API key. Send it as X-API-Key: <key> or Authorization: Bearer <key>.',
      );
    const principal = await options.authenticate(secret);
    if (!principal) throw new AppError('unauthorized', 'Invalid or revoked API key.');
    request.principal = principal;
  });
});

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthorized');
  return request.principal;
}

/** Admin writes: the master key only. A key of another org learns nothing (404). */
export function requireMaster(request: FastifyRequest, orgId?: string): void {
  const principal = principalOf(request);
  if (principal.kind === 'master') return;
  if (orgId !== undefined && !canReachOrg(principal, orgId))
    throw new AppError('not_found', `Org '${orgId}' not found.`);
  throw new AppError(
    'admin_key_required',
    'This operation needs the master key; org API keys can only read their own workspaces.',
  );
}

/** 404 (never 403) when the key may not reach the org, so other tenants' ids cannot be probed. */
export function requireOrg(request: FastifyRequest, orgId: string): Principal {
  const principal = principalOf(request);
  if (!canReachOrg(principal, orgId)) throw new AppError('not_found', `Org '${orgId}' not found.`);
  return principal;
}

export function requireWorkspace(request: FastifyRequest, orgId: string, workspaceId: string): Principal {
  const principal = requireOrg(request, orgId);
  if (!canReachWorkspace(principal, orgId, workspaceId))
    throw new AppError('not_found', `Workspace '${workspaceId}' not found.`);
  return principal;
}
