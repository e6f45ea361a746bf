import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A batch file streamed to a private temporary file (spreadsheet readers need a path); remove() deletes it. */
export async function saveUpload(dataDir: string, source: Readable, filename: string): Promise<{ path: string; bytes: number; remove(): Promise<void> }> {
  const folder = path.join(dataDir, 'uploads-tmp');
  await mkdir(folder, { recursive: true });
  // Keep only the extension of the client's name: it picks the reader; the rest never touches the disk.
  const extension = path.extname(filename).toLowerCase().replace(/[^.a-z0-9]/g, '').slice(0, 8);
  const file = path.join(folder, `${randomUUID()}${extension}`);
  let bytes = 0;
  source.on('data', (chunk: Buffer) => (bytes += chunk.length));
  try {
    await pipeline(source, createWriteStream(file, { mode: 0o600 }));
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
  return { path: file, bytes, remove: () => rm(file, { force: true }) };
}
