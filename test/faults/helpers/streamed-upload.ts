import { randomBytes } from 'node:crypto';
import { E2E_COHORTS, E2E_MASTER_KEY } from '../../helpers/e2e-tenant.js';
import { SEED_CONFIG } from '../../helpers/seed-config.js';
import { ask, type Answer } from './fault-processes.js';

const CHUNK = 256 * 1024;

/**
 * Posts a cohort upload (name, cohort_file, cohort_transformation_file, in the order the CLI and
 * the tests send them) whose file goes out in 256 kB chunks; before each chunk `beforeChunk(sentBytes)`
 * is awaited, so a test can inject a fault part-way through the body, while the server is streaming
 * it on to storage. Answers like `ask` (status 0 if the connection broke instead of an answer).
 */
export async function streamCohortUpload(
  baseUrl: string,
  name: string,
  csv: Buffer,
  beforeChunk: (sentBytes: number) => Promise<void>,
  key = E2E_MASTER_KEY,
): Promise<Answer> {
  const boundary = `----roster-fault-${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    [
      `--${boundary}`,
      'Content-Disposition: form-data; name="name"',
      '',
      name,
      `--${boundary}`,
      'Content-Disposition: form-data; name="cohort_file"; filename="users.csv"',
      'Content-Type: text/csv',
      '',
      '',
    ].join('\r\n'),
  );
  const tail = Buffer.from(
    [
      '',
      `--${boundary}`,
      'Content-Disposition: form-data; name="cohort_transformation_file"; filename="config.json"',
      'Content-Type: application/json',
      '',
      JSON.stringify(SEED_CONFIG),
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  );
  async function* body(): AsyncGenerator<Uint8Array> {
    yield head;
    for (let sent = 0; sent < csv.length; sent += CHUNK) {
      await beforeChunk(sent);
      yield csv.subarray(sent, sent + CHUNK);
    }
    yield tail;
  }
  return ask(
    `${baseUrl}${E2E_COHORTS}/upload`,
    {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: body() as unknown as RequestInit['body'],
      duplex: 'half',
    } as RequestInit,
    60_000,
  );
}
