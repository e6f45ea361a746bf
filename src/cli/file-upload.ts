import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { clientFrom } from './http-client.js';
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

/**
 * Posts a multipart form whose files stream from disk, with a bar of the bytes sent on a terminal:
 * `shown` names the file on the bar, `bytes` is the files' total size. Answers the server's JSON;
 * an error answer throws ApiError.
 */
export async function uploadForm<T>(
  command: Command,
  options: OutputOptions,
  urlPath: string,
  parts: FormPart[],
  upload: { shown: string; bytes: number },
): Promise<T> {
  const progress = await uploadProgress(
    `uploading ${path.basename(upload.shown)}`,
    upload.bytes,
    progressEnabled(options),
  );
  try {
    return await clientFrom(command).upload<T>(urlPath, parts, (sent) => progress.add(sent));
  } finally {
    progress.stop();
  }
}

/** Form fields from flags: the ones left unset are not sent, so the server's defaults apply. */
export function textParts(fields: Record<string, string | undefined>): FormPart[] {
  return Object.entries(fields).flatMap(([name, value]) => (value === undefined ? [] : [{ name, value }]));
}
