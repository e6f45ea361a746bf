import { parentPort } from 'node:worker_threads';
import { lowerThreadPriority } from '../worker-thread.js';
import {
  type TransformAnswer,
  type TransformRequest,
  type TransformedUnit,
  transformerFor,
} from './row-transformer.js';

lowerThreadPriority();
// A transform worker: builds each file's plan once, then answers that file's units in order.
// A plan that cannot be built answers every unit with why.
const plans = new Map<number, ((rows: string[][]) => TransformedUnit) | string>();
const answer = (message: TransformAnswer) => parentPort?.postMessage(message);
const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

parentPort?.on('message', (request: TransformRequest) => {
  if (request.type === 'plan') {
    try {
      plans.set(request.plan, transformerFor(request.input));
    } catch (error) {
      plans.set(request.plan, reasonOf(error));
    }
  } else if (request.type === 'drop') {
    plans.delete(request.plan);
  } else {
    const run = plans.get(request.plan) ?? `no plan ${request.plan} in this transform worker`;
    try {
      if (typeof run === 'string') answer({ id: request.id, error: run });
      else answer({ id: request.id, unit: run(request.rows) });
    } catch (error) {
      answer({ id: request.id, error: reasonOf(error) });
    }
  }
});
