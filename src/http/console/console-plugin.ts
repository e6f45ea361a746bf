import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import type { BatchDeps } from '../../services/batches/batch-deps.js';
import type { CohortDeps } from '../../services/cohorts/cohort-deps.js';
import type { WebhookDeps } from '../../services/webhooks/webhook-service.js';
import { projectRoot } from '../../storage/project-root.js';
import { notFoundHandler } from '../error-handler.js';
import { acceptUploads } from '../upload-request.js';
import { auditPages } from './audit-pages.js';
import { batchPages } from './batch-pages.js';
import { cohortPages } from './cohort-pages.js';
import { cohortMappingRoute } from './cohort-mapping-route.js';
import { renderConsoleError } from './console-errors.js';
import { deploymentPages } from './deployment-pages.js';
import { erasurePages } from './erasure-pages.js';
import { AssetParams } from './console-schemas.js';
import {
  checkCsrfToken,
  checkSameOrigin,
  csrfFieldOf,
  headerToken,
  securityHeaders,
  SESSION_COOKIE,
} from './console-security.js';
import { query } from './html.js';
import { wantsJson } from './console-request.js';
import { findSession } from './session-store.js';
import { signInPages } from './sign-in-pages.js';
import { webhookPages } from './webhook-pages.js';
import { workspacePages } from './workspace-pages.js';

export interface ConsoleDeps {
  cohorts: CohortDeps;
  batches: BatchDeps;
  webhooks: WebhookDeps;
  masterKey: string | undefined;
  dataDir: string;
}

const ASSET_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** The console's scripts and styles, read once: a fixed set of names, so no request path reaches the disk. */
function loadAssets(): Map<string, { body: Buffer; type: string }> {
  const folder = path.join(projectRoot(), 'console-assets');
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(folder)) {
    const type = ASSET_TYPES[path.extname(name)];
    if (type && /^[a-z0-9-]+\.[a-z]+$/.test(name))
      assets.set(name, { body: readFileSync(path.join(folder, name)), type });
  }
  return assets;
}

/**
 * The web console under /console: server-rendered pages signed in with an API key, kept in a
 * session cookie backed by the database. Cookie, form and multipart parsing live in this scope only.
 */
export async function consolePlugin(app: FastifyInstance, options: { deps: ConsoleDeps }): Promise<void> {
  const { deps } = options;
  const assets = loadAssets();
  // Every console route skips the API-key check (the session replaces it) and the API document;
  // unlike the public routes it stays rate-limited (per client address), sign-in included.
  // Their errors are shown as pages (renderConsoleError), after the one error handler has classified
  // them. They answer HTML, or the envelope with a refused form's hints: no response schemas, so the
  // standard error responses the API document adds (which would strip the hints) are taken off again.
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), session: true, renderError: renderConsoleError };
    const { response: _standardErrors, ...schema } = route.schema ?? {};
    route.schema = { ...schema, hide: true };
  });
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 256 * 1024 });
  await acceptUploads(app, deps.cohorts.config);
  app.decorateRequest('consoleSession', null);
  app.decorateRequest('csrfChecked', false);

  app.addHook('onRequest', async (request, reply) => {
    securityHeaders(reply);
    if (request.routeOptions.config?.consoleOpen === true) return;
    const token = request.cookies[SESSION_COOKIE];
    const session = token ? await findSession(deps.cohorts.db, token, deps.masterKey, new Date()) : undefined;
    if (!session) {
      if (request.method === 'GET' && !wantsJson(request)) {
        return reply.redirect(`/console/sign-in${query({ next: request.url })}`, 303);
      }
      throw new AppError('unauthorized', 'Your console session has ended; sign in again.');
    }
    request.consoleSession = session;
    // The API's reach checks (requireWorkspace and friends) read the principal from here.
    request.principal = session.principal;
  });

  app.addHook('preHandler', async (request) => {
    if (request.method === 'GET' || request.method === 'HEAD') return;
    checkSameOrigin(request);
    const session = request.consoleSession;
    if (!session) return; // the sign-in form checks its own token
    const fromHeader = headerToken(request);
    const fromForm = csrfFieldOf(request.body);
    if (fromHeader !== undefined || fromForm !== undefined) {
      checkCsrfToken(fromHeader ?? fromForm, session.csrfToken);
      request.csrfChecked = true;
    } else if (!request.isMultipart()) {
      checkCsrfToken(undefined, session.csrfToken);
    }
  });

  app.setNotFoundHandler(
    notFoundHandler((request) => `There is no console page at ${request.url.split('?')[0]}.`, renderConsoleError),
  );

  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .get(
      '/assets/:name',
      { schema: { params: AssetParams }, config: { consoleOpen: true } },
      async (request, reply) => {
        const asset = assets.get(request.params.name);
        if (!asset) throw new AppError('not_found', 'No such asset.');
        return reply.header('content-type', asset.type).header('cache-control', 'no-cache').send(asset.body);
      },
    );
  await app.register(signInPages, { deps });
  await app.register(workspacePages, { deps });
  await app.register(deploymentPages, { deps });
  await app.register(cohortPages, { deps });
  await app.register(cohortMappingRoute, { deps });
  await app.register(batchPages, { deps });
  await app.register(auditPages, { deps });
  await app.register(webhookPages, { deps });
  await app.register(erasurePages, { deps });
}
