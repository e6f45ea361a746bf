import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { BlobNotFoundError, BlobStorageUnavailableError, type BlobStore } from '../../src/storage/blobs/blob-store.js';
import { LocalBlobStore } from '../../src/storage/blobs/local-blob-store.js';
import { S3BlobStore } from '../../src/storage/blobs/s3-blob-store.js';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';

const MB = 1024 * 1024;

/** `size` bytes in 64 KB chunks, never held whole; byte i is i mod 251 so a shifted or lost chunk shows. */
function streamedBody(size: number): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= size) return void this.push(null);
      const length = Math.min(64 * 1024, size - offset);
      const chunk = Buffer.alloc(length);
      for (let i = 0; i < length; i++) chunk[i] = (offset + i) % 251;
      offset += length;
      this.push(chunk);
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface Implementation {
  name: string;
  open(): Promise<{ store: BlobStore; close(): Promise<void> }>;
}

const implementations: Implementation[] = [
  {
    name: 'local disk',
    async open() {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'roster-blobs-'));
      return { store: new LocalBlobStore(dir), close: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'S3-compatible (s3rver)',
    async open() {
      const server = await startS3Server();
      const store = new S3BlobStore(server.settings);
      return {
        store,
        async close() {
          store.close();
          await server.close();
        },
      };
    },
  },
];

for (const implementation of implementations) {
  describe(`blob store contract: ${implementation.name}`, () => {
    let store: BlobStore;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, close } = await implementation.open());
    });
    after(async () => {
      await close?.();
    });

    it('streams a 20 MB body in and out unchanged and counts its bytes', async () => {
      const size = 20 * MB;
      const { bytes } = await store.put('cohorts/big/source.csv', streamedBody(size));
      assert.equal(bytes, size);
      const back = await readAll(await store.get('cohorts/big/source.csv'));
      assert.equal(back.length, size);
      assert.ok(back.equals(await readAll(streamedBody(size))), 'the bytes read back differ from those written');
    });

    it('stores a small body and an empty one', async () => {
      assert.deepEqual(
        await store.put('cohorts/small/a.csv', Readable.from([Buffer.from('phone\n'), Buffer.from('+14155550100\n')])),
        { bytes: 19 },
      );
      assert.equal((await readAll(await store.get('cohorts/small/a.csv'))).toString(), 'phone\n+14155550100\n');
      assert.deepEqual(await store.put('cohorts/small/empty.csv', Readable.from([])), { bytes: 0 });
      assert.equal((await readAll(await store.get('cohorts/small/empty.csv'))).length, 0);
    });

    it('throws BlobNotFoundError for a missing key', async () => {
      await assert.rejects(store.get('cohorts/nowhere/source.csv'), BlobNotFoundError);
    });

    it('deletes one object, and deleting a missing one is not an error', async () => {
      await store.put('cohorts/del/x.csv', Readable.from([Buffer.from('x')]));
      await store.delete('cohorts/del/x.csv');
      await assert.rejects(store.get('cohorts/del/x.csv'), BlobNotFoundError);
      await store.delete('cohorts/del/x.csv');
    });

    it('deletePrefix removes that folder only, not a sibling sharing its first characters', async () => {
      for (const key of ['cohorts/coh-1/source.csv', 'cohorts/coh-1/rejected.csv', 'cohorts/coh-10/source.csv']) {
        await store.put(key, Readable.from([Buffer.from(key)]));
      }
      await store.deletePrefix('cohorts/coh-1');
      await assert.rejects(store.get('cohorts/coh-1/source.csv'), BlobNotFoundError);
      await assert.rejects(store.get('cohorts/coh-1/rejected.csv'), BlobNotFoundError);
      assert.equal(
        (await readAll(await store.get('cohorts/coh-10/source.csv'))).toString(),
        'cohorts/coh-10/source.csv',
      );
      await store.deletePrefix('cohorts/never-there/');
    });

    it('refuses keys that could escape their folder', async () => {
      await assert.rejects(store.put('../outside', Readable.from([Buffer.from('x')])), /unsafe blob key/);
      await assert.rejects(store.get('cohorts/../../etc/passwd'), /unsafe blob key/);
    });

    it('pings true while it works', async () => {
      assert.equal(await store.ping(), true);
    });

    it('fails a put with the source stream error, not a storage error', async () => {
      const failing = new Readable({ read() {} });
      const put = store.put('cohorts/broken/source.csv', failing);
      failing.push(Buffer.from('half a file'));
      setTimeout(() => failing.destroy(new Error('client went away')), 20);
      await assert.rejects(put, /client went away/);
      await assert.rejects(store.get('cohorts/broken/source.csv'), BlobNotFoundError);
    });
  });
}

describe('S3 blob store while the server is down', () => {
  let server: TestS3Server;
  let store: S3BlobStore;
  before(async () => {
    server = await startS3Server();
    store = new S3BlobStore(server.settings);
    await store.put('cohorts/up/source.csv', Readable.from([Buffer.from('x')]));
    await server.stop();
  });
  after(async () => {
    store?.close();
    await server?.close();
  });

  it('pings false', async () => {
    assert.equal(await store.ping(), false);
  });

  it('fails put, get, delete and deletePrefix with BlobStorageUnavailableError', async () => {
    await assert.rejects(store.put('cohorts/down/source.csv', streamedBody(MB)), BlobStorageUnavailableError);
    await assert.rejects(store.get('cohorts/up/source.csv'), BlobStorageUnavailableError);
    await assert.rejects(store.delete('cohorts/up/source.csv'), BlobStorageUnavailableError);
    await assert.rejects(store.deletePrefix('cohorts/up'), BlobStorageUnavailableError);
  });

  it('works again once a server is back on the same port and directory', async () => {
    const again = await startS3Server({ port: server.port, directory: server.directory });
    try {
      assert.equal(await store.ping(), true);
      assert.equal((await readAll(await store.get('cohorts/up/source.csv'))).toString(), 'x');
    } finally {
      await again.stop();
    }
  });
});
