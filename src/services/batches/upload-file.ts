import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { temporaryFileName } from '../../storage/blobs/temp-files.js';
import { fieldText, skipFile, type UploadParts } from '../upload-parts.js';

/**
 * A batch file streamed to a private temporary file in `<dataDir>/uploads-tmp` (spreadsheet readers
 * need a path); remove() deletes it. A failed or cut-off upload deletes it here; one killed with its
 * process is removed by the next start's sweep (temp-files.ts), its name telling whose it was.
 */
export async function saveUpload(
  dataDir: string,
  source: Readable,
  filename: string,
): Promise<{ path: string; bytes: number; remove(): Promise<void> }> {
  const folder = path.join(dataDir, 'uploads-tmp');
  await mkdir(folder, { recursive: true });
  // Keep only the extension of the client's name: it picks the reader; the rest never touches the disk.
  const extension = path
    .extname(filename)
    .toLowerCase()
    .replace(/[^.a-z0-9]/g, '')
    .slice(0, 8);
  const file = path.join(folder, temporaryFileName(extension));
  let bytes = 0;
  source.on('data', (chunk: Buffer) => (bytes += chunk.length));
  try {
    await pipeline(source, createWriteStream(file, { mode: 0o600 }));
  } catch (error) {
    // The upload's own error is what the client must hear, not a failed clean-up's.
    await rm(file, { force: true }).catch(() => undefined);
    throw error;
  }
  return { path: file, bytes, remove: () => rm(file, { force: true }) };
}

export type SavedUpload = Awaited<ReturnType<typeof saveUpload>>;

/** A spreadsheet form as read so far: every field's values in order, the sheet saved to disk, the parts not taken. */
export interface SheetForm {
  fields: Map<string, string[]>;
  file: SavedUpload | undefined;
  filename: string;
  /** Names of the fields and file parts the form does not take, in order. */
  unknown: string[];
}

export function emptySheetForm(): SheetForm {
  return { fields: new Map(), file: undefined, filename: '', unknown: [] };
}

/** The last value a form gave a field (the vendor's form reader keeps the last), or undefined. */
export function lastValue(form: SheetForm, name: string): string | undefined {
  return form.fields.get(name)?.at(-1);
}

/**
 * Reads a batch or do-not-call form into `form`: the fields it takes, and the first file part that
 * is the sheet, streamed to a temporary file. Filled as it goes, so the caller can remove the file
 * (`form.file.remove()`) whatever happens, a failed read included.
 */
export async function readSheetForm(
  dataDir: string,
  parts: UploadParts,
  rules: { takesField(name: string): boolean; isSheet(part: { fieldname: string; filename: string }): boolean },
  form: SheetForm,
): Promise<void> {
  for await (const part of parts) {
    if (part.type === 'field') {
      if (rules.takesField(part.fieldname))
        form.fields.set(part.fieldname, [...(form.fields.get(part.fieldname) ?? []), fieldText(part)]);
      else form.unknown.push(part.fieldname);
    } else if (form.file === undefined && rules.isSheet(part)) {
      form.filename = part.filename;
      form.file = await saveUpload(dataDir, part.file, part.filename);
    } else {
      form.unknown.push(part.fieldname);
      skipFile(part);
    }
  }
}
