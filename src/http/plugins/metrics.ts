import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CohortMetrics } from '../../services/cohorts/cohort-deps.js';
import { countJobsByStatus } from '../../storage/repositories/jobs-repository.js';
import type { Database, JobStatus } from '../../storage/schema.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Where cohort ingest and caller lookups report; the job runner of this process gets it too. */
    cohortMetrics: CohortMetrics;
  }
}

export interface MetricsOptions {
  db: Kysely<Database>;
}

const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'done', 'failed'];
/** Lookups answer in well under a millisecond; uploads can take many seconds. */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LOOKUP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

let processRegistry: Registry | undefined;

/**
 * CPU, memory, event-loop and GC metrics belong to the process, and collecting them installs
 * observers that cannot be removed: one set per process, however many apps it builds (tests build many).
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'roster_' });
  }
  return processRegistry;
}

/**
 * Prometheus metrics at GET /metrics (no key): HTTP latency by route pattern, jobs by status,
 * rows ingested and caller-lookup latency. Each app has a registry of its own.
 */
export const metricsPlugin = fp<MetricsOptions>(async (app: FastifyInstance, options) => {
  const registry = new Registry();

  const http = new Histogram({
    name: 'roster_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern (`unmatched` for unknown routes) and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
  const log = app.log;
  new Gauge({
    name: 'roster_jobs',
    help: 'Background jobs by status, counted in the database all instances share: every instance reports the same totals.',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      try {
        const counts = await countJobsByStatus(options.db);
        for (const status of JOB_STATUSES) this.set({ status }, counts[status] ?? 0);
      } catch (error) {
        // A database outage must not take the process metrics down with it; the series go stale instead.
        this.reset();
        log.warn({ err: error }, 'metrics: counting jobs failed');
      }
    },
  });
  const rows = new Counter({
    name: 'roster_cohort_rows_ingested_total',
    help: 'Data rows of completed cohorts ingested by this process (its job runner: in `roster serve`, or `roster worker --metrics-port`), by result.',
    labelNames: ['result'],
    registers: [registry],
  });
  const lookups = new Histogram({
    name: 'roster_caller_lookup_duration_seconds',
    help: 'Caller lookup time in the service (database and phone parsing, without HTTP), by whether the caller was found.',
    labelNames: ['found'],
    buckets: LOOKUP_BUCKETS,
    registers: [registry],
  });

  // Bound once, so a report on the hot path hashes no labels.
  const rowsValid = rows.labels('valid');
  const rowsRejected = rows.labels('rejected');
  rowsValid.inc(0);
  rowsRejected.inc(0);
  const lookupFound = lookups.labels('true');
  const lookupMissing = lookups.labels('false');
  lookups.zero({ found: 'true' });
  lookups.zero({ found: 'false' });
  app.decorate('cohortMetrics', {
    rowsIngested(valid: number, rejected: number) {
      rowsValid.inc(valid);
      rowsRejected.inc(rejected);
    },
    lookupSeconds(seconds: number, found: boolean) {
      (found ? lookupFound : lookupMissing).observe(seconds);
    },
  } satisfies CohortMetrics);

  // The route pattern, never the URL: URLs hold phone numbers and ids, and would make a series per caller.
  app.addHook('onResponse', (request, reply, done) => {
    http.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: reply.statusCode },
      reply.elapsedTime / 1000,
    );
    done();
  });

  app.get(
    '/metrics',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'Metrics in the Prometheus text format',
        description:
          'HTTP latency by route pattern, background jobs by status (database-wide), cohort rows ingested, ' +
          'caller-lookup latency and the process metrics (all prefixed `roster_`). Counters are per process.',
        security: [],
        response: {
          200: {
            description: 'Prometheus text exposition format 0.0.4',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_request, reply) => {
      const merged = Registry.merge([processMetrics(), registry]);
      const text = await merged.metrics();
      return reply.type(merged.contentType).send(text);
    },
  );
});
