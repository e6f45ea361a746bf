import http from 'node:http';
import { SEED_CONFIG } from './seed-config.js';

/** A form as fetch would send it: its bytes and content type (a new boundary each time it is built). */
export async function formBytes(parts: Array<[string, string, string?]>): Promise<{ body: Buffer; type: string }> {
  const form = new FormData();
  for (const [name, value, filename] of parts) {
    if (filename === undefined) form.append(name, value);
    else form.append(name, new Blob([value]), filename);
  }
  const encoded = new Response(form);
  return { body: Buffer.from(await encoded.arrayBuffer()), type: encoded.headers.get('content-type')! };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** Sends a request to the listening app; `hold` keeps the body's second half until it resolves. */
export function send(
  base: string,
  method: string,
  path: string,
  options: { key: string; idempotencyKey?: string; body: Buffer | string; type: string; hold?: Promise<void> },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(options.body);
    const request = http.request(`${base}${path}`, {
      method,
      headers: {
        'x-api-key': options.key,
        'content-type': options.type,
        'content-length': body.length,
        ...(options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey }),
      },
    });
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode!, headers: response.headers, text: Buffer.concat(chunks).toString() }),
      );
    });
    if (options.hold === undefined) request.end(body);
    else {
      const half = Math.floor(body.length / 2);
      request.write(body.subarray(0, half));
      options.hold.then(() => request.end(body.subarray(half)), reject);
    }
  });
}

/** A cohort upload's form (the seed config), as `formBytes` builds it. */
export const cohortForm = (csv: string, name = 'Idempotent') =>
  formBytes([
    ['name', name],
    ['cohort_file', csv, 'users.csv'],
    ['cohort_transformation_file', JSON.stringify(SEED_CONFIG), 'config.json'],
  ]);
