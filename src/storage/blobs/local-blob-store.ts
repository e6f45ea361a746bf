import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, open, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertSafeKey, BlobNotFoundError, type BlobStore } from './blob-store.js';
import { temporaryFileName } from './temp-files.js';

/**
 * Files under `<dataDir>/blobs`; writes go to a temporary file in `<dataDir>/blobs-tmp` (named by the
 * writing process, see temp-files.ts), are fsynced, then renamed in place. A failed write leaves
 * nothing: neither the temporary file nor the target's folder, which is made only for the rename.
 */
export class LocalBlobStore implements BlobStore {
  private readonly root: string;
  private readonly tmp: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'blobs');
    this.tmp = path.join(dataDir, 'blobs-tmp');
  }

  private file(key: string): string {
    return path.join(this.root, assertSafeKey(key));
  }

  async put(key: string, source: Readable): Promise<{ bytes: number }> {
    // The source may fail while the folders are made, before pipeline() listens; the pipeline
    // still sees that error (the stream is destroyed), so this listener only keeps it from being
    // an uncaught exception.
    source.on('error', () => undefined);
    const target = this.file(key);
    await mkdir(this.tmp, { recursive: true });
    const temporary = path.join(this.tmp, temporaryFileName());
    let bytes = 0;
    source.on('data', (chunk: Buffer) => (bytes += chunk.length));
    try {
      await pipeline(source, createWriteStream(temporary));
      const handle = await open(temporary, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await moveInto(temporary, target);
      return { bytes };
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
  }

  async get(key: string): Promise<Readable> {
    const file = this.file(key);
    try {
      await access(file);
    } catch {
      throw new BlobNotFoundError(key);
    }
    return createReadStream(file, { highWaterMark: 256 * 1024 });
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<void> {
    await rm(this.file(prefix.replace(/\/+$/, '')), { recursive: true, force: true });
  }

  async ping(): Promise<boolean> {
    try {
      await mkdir(this.root, { recursive: true });
      await access(this.root);
      return true;
    } catch {
      return false;
    }
  }
}

/** Renames a finished file to its place, making its folder; once more if a start-up sweep removed the folder meanwhile. */
async function moveInto(temporary: string, target: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await mkdir(path.dirname(target), { recursive: true });
    try {
      await rename(temporary, target);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 2) throw error;
    }
  }
}
