// The load generator, in a process of its own so it never shares an event loop with the server or
// the orchestrator: `node --import tsx bench/load.ts < plan.json` runs the plan's runs one after
// another and prints one JSON line: an array of figures, one per run.
import { text } from 'node:stream/consumers';
import autocannon from 'autocannon';
import { quantile } from './stats.js';

export interface LoadPlan {
  url: string;
  apiKey: string;
  connections: number;
  runs: { paths: string[]; seconds: number }[];
}

export interface LoadResult {
  requests_per_sec: number;
  requests: number;
  p50_ms: number;
  p99_ms: number;
  /** autocannon's own percentiles, whole milliseconds only. */
  autocannon_p50_ms: number;
  autocannon_p99_ms: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

/** One autocannon run; each connection requests `paths` in turn, keep-alive, no pipelining. */
async function run(plan: LoadPlan, paths: string[], seconds: number): Promise<LoadResult> {
  // autocannon's latency histogram has 1 ms resolution; sub-millisecond answers need their own record.
  let latencies = new Float64Array(1 << 18);
  let count = 0;
  const instance = autocannon({
    url: plan.url,
    connections: plan.connections,
    pipelining: 1,
    duration: seconds,
    headers: { 'x-api-key': plan.apiKey },
    requests: paths.map((path) => ({ method: 'GET', path })),
  });
  instance.on('response', (_client, _status, _bytes, responseTime) => {
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = responseTime;
  });
  const result = await instance;
  const sorted = latencies.subarray(0, count).sort();
  return {
    requests_per_sec: result.requests.average,
    requests: result.requests.total,
    p50_ms: quantile(sorted, 0.5),
    p99_ms: quantile(sorted, 0.99),
    autocannon_p50_ms: result.latency.p50,
    autocannon_p99_ms: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

const plan = JSON.parse(await text(process.stdin)) as LoadPlan;
const results: LoadResult[] = [];
for (const step of plan.runs) results.push(await run(plan, step.paths, step.seconds));
process.stdout.write(`${JSON.stringify(results)}\n`);
