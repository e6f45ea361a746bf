import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from '../config.js';
import type { BatchDeps } from '../services/batches/batch-deps.js';
import type { CohortDeps } from '../services/cohorts/cohort-deps.js';
import type { WebhookDeps } from '../services/webhooks/webhook-service.js';
import type { BlobStore } from '../storage/blobs/blob-store.js';
import type { Storage } from '../storage/db.js';
import { installBodyParsers } from './body-parsers.js';
import {
  clientErrorHandler,
  frameworkErrorHandler,
  MAX_PARAM_LENGTH,
  refuseWhileClosing,
  registerErrorHandling,
} from './error-handler.js';
import { consolePlugin } from './console/console-plugin.js';
import { auditPlugin } from './plugins/audit.js';
import { idempotencyPlugin } from './plugins/idempotency.js';
import { auditRoutes } from './routes/audit/audit-routes.js';
import { webhookRoutes } from './routes/webhooks/webhook-routes.js';
import { erasureRoutes } from './routes/erasure/erasure-routes.js';
import { lingerOnUnreadBodies } from './lingering-close.js';
import { serializeRequest } from './log-redaction.js';
import { authPlugin } from './plugins/auth.js';
import { cachedAuthenticator } from '../services/key-service.js';
import { metricsPlugin } from './plugins/metrics.js';
import { openapiPlugin } from './plugins/openapi.js';
import { rateLimitPlugin } from './plugins/rate-limit.js';
import { orgRoutes } from './routes/admin/org-routes.js';
import { meRoutes } from './routes/me/me-routes.js';
import { batchRoutes } from './routes/batches/batch-routes.js';
import { dialerRoutes } from './routes/batches/dialer-routes.js';
import { dncRoutes } from './routes/batches/dnc-routes.js';
import { callerRoutes } from './routes/callers/caller-routes.js';
import { cohortRoutes } from './routes/cohorts/cohort-routes.js';
import { workspaceRoutes } from './routes/admin/workspace-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { validatorCompiler } from './validation.js';

export interface AppDeps {
  storage: Storage;
  blobs: BlobStore;
  /** Wakes the in-process job runner after an enqueue; a no-op when workers run elsewhere. */
  notifyWorkers?: () => void;
  /** The clock batches schedule by; tests inject one. */
  now?: () => Date;
}

/** Where logs go; tests pass `false` or a stream. */
export type LoggerSetting = FastifyServerOptions['logger'];

export function loggerOptions(config: Config): LoggerSetting {
  return {
    level: config.logLevel,
    serializers: { req: serializeRequest as never },
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.key', '*.secret'],
      censor: '[redacted]',
    },
  };
}

/** Builds the whole HTTP app, ready for inject() or listen(); never listens itself. */
export async function buildApp(
  config: Config,
  deps: AppDeps,
  logger: LoggerSetting = loggerOptions(config),
): Promise<FastifyInstance> {
  const app = Fastify({
    logger,
    bodyLimit: config.bodyLimitBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    requestIdHeader: 'x-request-id',
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(given) ? given : randomUUID();
    },
    // Requests that arrive while the server drains get our own 503 (below), in the envelope.
    return503OnClosing: false,
    // Errors raised before a route runs (router, HTTP parser) come out in the envelope too.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  app.setValidatorCompiler(validatorCompiler());
  installBodyParsers(app);
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  lingerOnUnreadBodies(app);
  registerErrorHandling(app);
  refuseWhileClosing(app);

  await app.register(openapiPlugin);
  await app.register(rateLimitPlugin, config.rateLimit);
  await app.register(authPlugin, { authenticate: cachedAuthenticator(deps.storage, config.masterKey) });
  await app.register(metricsPlugin, { db: deps.storage.db });
  await app.register(auditPlugin, { db: deps.storage.db });
  await app.register(idempotencyPlugin, { db: deps.storage.db, config });

  await app.register(healthRoutes, { storage: deps.storage, blobs: deps.blobs });
  await app.register(orgRoutes, { db: deps.storage.db, keyChanges: deps.storage.keyChanges });
  await app.register(meRoutes, { db: deps.storage.db });
  await app.register(auditRoutes, { db: deps.storage.db });
  await app.register(workspaceRoutes, { db: deps.storage.db });
  const cohortDeps: CohortDeps = {
    db: deps.storage.db,
    capabilities: deps.storage.capabilities,
    blobs: deps.blobs,
    config,
    contacts: deps.storage.contacts,
    callers: deps.storage.callers,
    notifyWorkers: deps.notifyWorkers ?? (() => undefined),
    metrics: app.cohortMetrics,
  };
  // The vendor serves cohorts under /api/scheduling; both prefixes answer, so only a base URL changes.
  for (const prefix of ['/v1', '/api/scheduling/v1']) {
    await app.register(cohortRoutes, { prefix, deps: cohortDeps });
    await app.register(callerRoutes, { prefix, deps: cohortDeps });
  }
  const batchDeps: BatchDeps = {
    db: deps.storage.db,
    capabilities: deps.storage.capabilities,
    config,
    now: deps.now ?? (() => new Date()),
  };
  // Batches use the vendor's multipart field names; their routes get a multipart parser of their own.
  await app.register(batchRoutes, { deps: batchDeps, dataDir: config.dataDir });
  await app.register(dialerRoutes, { deps: batchDeps });
  await app.register(dncRoutes, { deps: batchDeps, dataDir: config.dataDir });
  const webhookDeps: WebhookDeps = {
    db: deps.storage.db,
    config,
    now: batchDeps.now,
    notifyWorkers: cohortDeps.notifyWorkers,
  };
  await app.register(webhookRoutes, { deps: webhookDeps });
  await app.register(erasureRoutes, { deps: cohortDeps });
  await app.register(consolePlugin, {
    prefix: '/console',
    deps: {
      cohorts: cohortDeps,
      batches: batchDeps,
      webhooks: webhookDeps,
      masterKey: config.masterKey,
      dataDir: config.dataDir,
    },
  });
  return app;
}
