import { once } from 'node:events';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { AppError } from '../../errors.js';
import { hashKey } from '../../domain/tenancy/api-keys.js';
import { presentedKey } from './auth.js';

export interface RateLimitOptions {
  max: number;
  windowMs: number;
  /** Shares the counters between API instances; unset, this process counts alone. */
  redisUrl: string | undefined;
}

/**
 * A connection for the shared counters that fails fast: a request never waits on an unreachable
 * Redis (commands fail at once while it is disconnected), and is then let through (skipOnError)
 * with a warning.
 */
async function redisFor(app: FastifyInstance, url: string): Promise<Redis> {
  // Loaded only when configured, like the S3 client: an instance without Redis carries none of it.
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { connectTimeout: 500, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  let warned = false;
  redis.on('error', (error: Error) => {
    if (warned) return;
    warned = true;
    app.log.warn({ err: error.message }, 'rate limiting: Redis unreachable; requests are let through until it is back');
  });
  redis.on('ready', () => {
    if (warned) app.log.info('rate limiting: Redis reachable again');
    warned = false;
  });
  app.addHook('onClose', async () => {
    redis.disconnect();
  });
  // Commands are not queued while disconnected, so wait (briefly) for the first connection: without
  // it the first requests would all be let through uncounted.
  await once(redis, 'ready', { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  return redis;
}

/**
 * A per-key request budget (per client address without a key); 429 with Retry-After past it. With
 * ROSTER_REDIS_URL every API instance counts in the same Redis, so the budget is per key, not per
 * key and instance.
 */
export const rateLimitPlugin = fp<RateLimitOptions>(async (app: FastifyInstance, options) => {
  if (options.max === 0) return;
  await app.register(rateLimit, {
    global: true,
    ...(options.redisUrl ? { redis: await redisFor(app, options.redisUrl), nameSpace: 'roster-rate-limit:', skipOnError: true } : {}),
    max: options.max,
    timeWindow: options.windowMs,
    // Keys are bucketed by their hash so the secret never sits in the limiter's memory as is.
    keyGenerator: (request) => {
      const key = presentedKey(request);
      return key ? `key:${hashKey(key).slice(0, 32)}` : `ip:${request.ip}`;
    },
    allowList: (request) => request.routeOptions.config?.public === true,
    errorResponseBuilder: (_request, context) =>
      new AppError(
        'rate_limited',
        `Rate limit of ${context.max} requests per ${context.after} exceeded; retry in ${Math.ceil(context.ttl / 1000)} s.`,
        { limit: context.max, retry_after_seconds: Math.ceil(context.ttl / 1000) },
      ),
  });
});
