import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { BlobStore } from '../storage/blobs/blob-store.js';
import type { Storage } from '../storage/db.js';
import { registerErrorHandling } from './error-handler.js';
import { metricsPlugin } from './plugins/metrics.js';
import { healthRoutes } from './routes/health-routes.js';

/**
 * What a `roster worker` serves when asked to (`--metrics-port`): `/metrics` (its own ingest
 * counters and the database-wide job gauge), `/healthz` and `/readyz`. No API, no keys: the
 * routes are the same public ones the API serves.
 */
export async function buildOperationsApp(
  deps: { storage: Storage; blobs: BlobStore },
  log: FastifyBaseLogger,
): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: log, return503OnClosing: true });
  registerErrorHandling(app);
  await app.register(metricsPlugin, { db: deps.storage.db });
  await app.register(healthRoutes, deps);
  return app;
}
