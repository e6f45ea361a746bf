import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { ApiError, clientFrom } from './http-client.js';
import type { FormPart } from './multipart-body.js';
import { LocalError, type OutputOptions } from './output.js';
import { progressEnabled, uploadProgress } from './progress.js';

/** The size of a file named by a flag; a missing or unreadable one fails the command (exit 1) before any request. */
export async function fileSize(file: string, flag: string): Promise<number> {
  const found = await stat(file).catch((error: Error) => {
    throw new LocalError(`cannot read ${flag} ${file}: ${error.message}`);
  });
  if (!found.isFile()) throw new LocalError(`${flag} ${file} is not a file`);
  return found.size;
}

/** The help of an upload's --idempotency-key. */
export const IDEMPOTENCY_KEY_HELP =
  'sent as Idempotency-Key (default: a new one each run, shown when no answer came): the same key with the same file answers the first result again instead of creating twice';

/**
 * Posts a multipart form whose files stream from disk, with a bar of the bytes sent on a terminal:
 * `shown` names the file on the bar, `bytes` is the files' total size. Answers the server's JSON;
 * an error answer throws ApiError. The form goes with an Idempotency-Key (`--idempotency-key`, else a
 * new one): when no answer comes, the error names it, so sending the same command again with it
 * cannot create the thing twice.
 */
export async function uploadForm<T>(
  command: Command,
  options: OutputOptions & { idempotencyKey?: string },
  urlPath: string,
  parts: FormPart[],
  upload: { shown: string; bytes: number },
): Promise<T> {
  const key = options.idempotencyKey ?? randomUUID();
  const progress = await uploadProgress(
    `uploading ${path.basename(upload.shown)}`,
    upload.bytes,
    progressEnabled(options),
  );
  try {
    return await clientFrom(command).upload<T>(urlPath, parts, (sent) => progress.add(sent), {
      'idempotency-key': key,
    });
  } catch (error) {
    if (error instanceof ApiError && error.status === 0)
      throw new ApiError(
        0,
        error.code,
        `${error.message}\nIf the server got the upload before the connection went, nothing is lost: run the same command with --idempotency-key ${key} to get its answer without creating it twice.`,
        error.details,
      );
    throw error;
  } finally {
    progress.stop();
  }
}

/** Form fields from flags: the ones left unset are not sent, so the server's defaults apply. */
export function textParts(fields: Record<string, string | undefined>): FormPart[] {
  return Object.entries(fields).flatMap(([name, value]) => (value === undefined ? [] : [{ name, value }]));
}
