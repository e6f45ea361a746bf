import { once } from 'node:events';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { AppError } from '../../errors.js';
import { hashKey } from '../../domain/tenancy/api-keys.js';
import { presentedKey } from './auth.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `lookup`: the route counts against the key's caller-lookup budget, not its general one. */
    rateBudget?: 'lookup';
  }
}

export interface RateLimitOptions {
  /** Requests per key and window on every route but the lookups; 0 turns rate limiting off, lookups included. */
  max: number;
  windowMs: number;
  /** Caller lookups per key and window, counted apart; 0 = unlimited. */
  lookupMax: number;
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
  const redis = new Redis(url, {
    connectTimeout: 500,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: false,
  });
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

type Budget = 'general' | 'lookup';

function budgetOf(request: FastifyRequest): Budget {
  return request.routeOptions.config?.rateBudget === 'lookup' ? 'lookup' : 'general';
}

/** "per second", "per 60 seconds", "per 1.5 seconds". */
function perWindow(windowMs: number): string {
  const seconds = windowMs / 1000;
  return seconds === 1 ? 'per second' : `per ${seconds} seconds`;
}

/**
 * Per-key request budgets (per client address without a key); 429 with Retry-After past one. Two
 * budgets, counted apart over the same window: caller lookups (routes with `rateBudget: 'lookup'`,
 * the voice runtime's call-time read) and everything else, so uploads and admin calls from a key
 * cannot starve its lookups, nor lookups its other calls. They are two counters in the same store
 * under different keys, which is what makes it work with the shared Redis store too
 * (@fastify/rate-limit's per-route limits would count each route, and each prefix, apart). With
 * ROSTER_REDIS_URL every API instance counts in the same Redis, so a budget is per key, not per key
 * and instance.
 */
export const rateLimitPlugin = fp<RateLimitOptions>(async (app: FastifyInstance, options) => {
  // 0 turns rate limiting off altogether, lookups included (as it did before lookups had a budget).
  if (options.max === 0) return;
  const maxOf: Record<Budget, number> = { general: options.max, lookup: options.lookupMax };
  await app.register(rateLimit, {
    global: true,
    ...(options.redisUrl
      ? { redis: await redisFor(app, options.redisUrl), nameSpace: 'roster-rate-limit:', skipOnError: true }
      : {}),
    max: (request) => maxOf[budgetOf(request)],
    timeWindow: options.windowMs,
    // Keys are bucketed by their hash so the secret never sits in the limiter's memory as is.
    keyGenerator: (request) => {
      const key = presentedKey(request);
      const who = key ? `key:${hashKey(key).slice(0, 32)}` : `ip:${request.ip}`;
      return budgetOf(request) === 'lookup' ? `lookup:${who}` : who;
    },
    allowList: (request) =>
      request.routeOptions.config?.public === true || (budgetOf(request) === 'lookup' && options.lookupMax === 0),
    errorResponseBuilder: (request, context) => {
      const lookup = budgetOf(request) === 'lookup';
      const retryAfter = Math.ceil(context.ttl / 1000);
      return new AppError(
        'rate_limited',
        `${lookup ? 'Caller-lookup rate limit' : 'Rate limit'} of ${context.max} requests ${perWindow(options.windowMs)} exceeded; retry in ${retryAfter} s.`,
        {
          limit: context.max,
          window_seconds: options.windowMs / 1000,
          budget: lookup ? 'lookup' : 'general',
          retry_after_seconds: retryAfter,
        },
      );
    },
  });
});
