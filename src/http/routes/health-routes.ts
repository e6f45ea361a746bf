import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { BlobStore } from '../../storage/blobs/blob-store.js';
import type { Storage } from '../../storage/db.js';
import { pingDatabase } from '../../storage/db.js';
import { pendingMigrations } from '../../storage/migrate.js';
import { ErrorEnvelopeSchema } from '../schemas.js';

const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Object({
    database: Type.Union([Type.Literal('ok'), Type.Literal('unreachable')]),
    migrations: Type.Union([Type.Literal('ok'), Type.Literal('pending'), Type.Literal('unknown')]),
    object_storage: Type.Union([Type.Literal('ok'), Type.Literal('unreachable')]),
  }),
});

/** How long readiness waits on each dependency: a probe must answer even when one hangs. */
const CHECK_TIMEOUT_MS = 2000;

/** The check's answer, or `timedOut` once it takes longer than CHECK_TIMEOUT_MS. */
async function within<T>(check: Promise<T>, timedOut: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(timedOut), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness, readiness and the API description: the routes that need no key. */
export async function healthRoutes(
  app: FastifyInstance,
  options: { storage: Storage; blobs: BlobStore },
): Promise<void> {
  const { storage, blobs } = options;
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process is up',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'Readiness: database reachable, migrations applied, object storage reachable',
        security: [],
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (_request, reply) => {
      const [databaseUp, storageUp] = await Promise.all([
        within(pingDatabase(storage.db), false),
        within(
          blobs.ping().catch(() => false),
          false,
        ),
      ]);
      const database = databaseUp ? 'ok' : 'unreachable';
      const objectStorage = storageUp ? 'ok' : 'unreachable';
      let migrations: 'ok' | 'pending' | 'unknown' = 'unknown';
      if (database === 'ok') {
        const pending = await within(
          pendingMigrations(storage).catch(() => undefined),
          undefined,
        );
        if (pending !== undefined) migrations = pending.length === 0 ? 'ok' : 'pending';
      }
      const ready = database === 'ok' && migrations === 'ok' && objectStorage === 'ok';
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'not_ready',
        checks: { database, migrations, object_storage: objectStorage },
      });
    },
  );

  app.get(
    '/openapi.json',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'This API as an OpenAPI 3.1 document',
        security: [],
        response: { 200: Type.Object({}, { additionalProperties: true }), 500: ErrorEnvelopeSchema },
      },
    },
    async () => app.swagger(),
  );
}
