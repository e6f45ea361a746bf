// The benchmark's server process: what `roster serve` runs (src/server.ts startServer), plus one
// constant-response route registered before listen, so the HTTP floor shares the framework,
// hooks (auth, rate limit) and settings of the routes it is compared with.
import { loadConfig } from '../src/config.js';
import { buildApp, loggerOptions } from '../src/http/app.js';
import type { JobRunner } from '../src/queue/runner.js';
import { openBlobStore } from '../src/storage/blobs/open-blob-store.js';
import { openStorage } from '../src/storage/db.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import { createJobRunner } from '../src/worker.js';

const config = loadConfig();
const storage = openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
await migrateToLatest(storage);
const blobs = await openBlobStore(config);
let runner: JobRunner | undefined;
const app = await buildApp(config, { storage, blobs, notifyWorkers: () => runner?.notify() }, loggerOptions(config));
runner = createJobRunner(config, storage, blobs, app.log, undefined, { ingestThreads: true });

// Same shape and a response schema like the caller lookup, so serialisation costs the same.
app.get(
  '/bench/constant',
  {
    schema: {
      response: {
        200: {
          type: 'object',
          properties: { found: { type: 'boolean' }, phone_number: { type: 'string' } },
          required: ['found', 'phone_number'],
        },
      },
    },
  },
  async () => ({ found: false, phone_number: '+910000000000' }),
);

await runner.start();
await app.listen({ host: config.host, port: config.port });
process.stdout.write(`bench server listening on ${config.host}:${config.port} (${storage.description})\n`);

const jobs = runner;
let closing = false;
const stop = () => {
  if (closing) process.exit(1);
  closing = true;
  Promise.all([app.close(), jobs.stop()])
    .then(() => storage.close())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
