import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../worker-thread.js';
import { transformerFor, type PlanInput } from './row-transformer.js';

lowerThreadPriority();
// A transform worker: builds the ingest plan once, then answers batches of rows in order.
const run = transformerFor(workerData as PlanInput);
parentPort?.on('message', (message: { id: number; rows: string[][] }) => {
  try {
    parentPort?.postMessage({ id: message.id, unit: run(message.rows) });
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
