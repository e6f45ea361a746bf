import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker thread of module `name` (without extension), beside the module at `from`
 * (its import.meta.url). Built code runs `<name>.js`; from TypeScript sources (tests,
 * `node --import tsx`) the thread registers tsx first, since workers do not inherit loader hooks.
 */
export function startWorkerThread(from: string, name: string, options: WorkerOptions): Worker {
  const fromSource = from.endsWith('.ts');
  const url = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, from);
  if (!fromSource) return new Worker(url, options);
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** How much lower than the API's threads bulk work runs (a nice value; 19 is the lowest). */
const BULK_NICENESS = 10;

/**
 * Lowers the calling thread's CPU priority, so that on a busy machine the event loop answering
 * calls (caller lookups) runs first and bulk work (ingest, transforms) takes the time left over.
 * Linux keeps a nice value per thread (setpriority(2) on the thread's id, found in
 * /proc/thread-self); elsewhere, or if the call is refused, the thread keeps its priority. Measured
 * with `npm run bench -- --only=lookup-ingest` (see the README's Performance section).
 */
export function lowerThreadPriority(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(threadId) && threadId > 0) setPriority(threadId, BULK_NICENESS);
  } catch {
    // Not Linux, or not allowed: the thread runs at its normal priority.
  }
}
