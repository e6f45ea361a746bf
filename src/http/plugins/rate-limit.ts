import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../../errors.js';
import { hashKey } from '../../domain/tenancy/api-keys.js';
import { presentedKey } from './auth.js';

export interface RateLimitOptions {
  max: number;
  windowMs: number;
}

/** A per-key request budget (per client address without a key); 429 with Retry-After past it. */
export const rateLimitPlugin = fp<RateLimitOptions>(async (app: FastifyInstance, options) => {
  if (options.max === 0) return;
  await app.register(rateLimit, {
    global: true,
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
