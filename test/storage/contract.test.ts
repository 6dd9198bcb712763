import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsStore } from '../../src/storage/fs-store.js';
import { getBuffer, type ObjectCreatedSource, type ObjectStore } from '../../src/storage/object-store.js';
import { createS3Client, createS3Store } from '../../src/storage/s3-store.js';
import { ANY_SIGNED, startIamS3, type IamS3 } from '../helpers/aws/iam-s3.js';
import { collect } from '../helpers/collect.js';
import { startS3rver, type S3Server } from '../helpers/s3rver.js';
import { useTempDirs } from '../helpers/temp.js';

type Store = ObjectStore & ObjectCreatedSource;

/**
 * What every storage adapter promises the rest of the code (see object-store.ts), run against each
 * one: a new adapter passes this before anything uses it.
 */
function storeContract(name: string, freshStore: () => Promise<Store>) {
  describe(`the storage contract: ${name}`, () => {
    it('stores, reads, heads, lists and deletes objects with their metadata', async () => {
      const store = await freshStore();
      const info = await store.put('a/b.txt', Buffer.from('hello'), { contentType: 'text/plain', metadata: { filename: 'x%20y' } });
      expect(info).toMatchObject({ key: 'a/b.txt', size: 5, etag: '"5d41402abc4b2a76b9719d911017c592"' });
      expect(await store.head('a/b.txt')).toMatchObject({ key: 'a/b.txt', size: 5, contentType: 'text/plain', metadata: { filename: 'x%20y' } });
      expect((await getBuffer(store, 'a/b.txt'))?.toString()).toBe('hello');
      await store.delete('a/b.txt');
      expect(await store.head('a/b.txt')).toBeUndefined();
      expect(await store.get('a/b.txt')).toBeUndefined();
      expect(await getBuffer(store, 'a/b.txt')).toBeUndefined();
    });

    it('lists keys under a prefix in key order, folders and all', async () => {
      const store = await freshStore();
      for (const key of ['b/2', 'a/c.txt', 'a/b.txt', 'a/deeper/d', 'z.txt']) await store.put(key, Buffer.from(key));
      expect((await collect(store.list('a/'))).map((o) => o.key)).toEqual(['a/b.txt', 'a/c.txt', 'a/deeper/d']);
      expect((await collect(store.list(''))).map((o) => o.key)).toEqual(['a/b.txt', 'a/c.txt', 'a/deeper/d', 'b/2', 'z.txt']);
      expect(await collect(store.list('nothing/'))).toEqual([]);
      const [listed] = await collect(store.list('z'));
      expect(listed).toMatchObject({ key: 'z.txt', size: 5 });
      expect(listed!.lastModified).toBeInstanceOf(Date);
    });

    it('pages: at most `limit` keys, after `startAfter`, in key order', async () => {
      const store = await freshStore();
      for (const key of ['b', 'a0', 'a/c', 'a/b', 'a/d/e']) await store.put(key, Buffer.from(key));
      const keys = async (prefix: string, options?: { startAfter?: string; limit?: number }) => (await collect(store.list(prefix, options))).map((o) => o.key);
      expect(await keys('')).toEqual(['a/b', 'a/c', 'a/d/e', 'a0', 'b']);
      expect(await keys('', { limit: 2 })).toEqual(['a/b', 'a/c']);
      expect(await keys('', { startAfter: 'a/b', limit: 3 })).toEqual(['a/c', 'a/d/e', 'a0']);
      expect(await keys('a/', { startAfter: 'a/c' })).toEqual(['a/d/e']);
      expect(await keys('a/', { startAfter: 'a/d/e' })).toEqual([]);
      expect(await keys('', { startAfter: 'a0' })).toEqual(['b']);
    });

    it('names what lies directly under a prefix, keys and sub-prefixes, without reading objects', async () => {
      const store = await freshStore();
      // (Keys one level below: s3rver names no sub-prefix whose keys all lie deeper, which S3 does.)
      for (const key of ['n/a', 'n/b/c', 'n/b/d', 'n/e/f', 'other']) await store.put(key, Buffer.from(key));
      expect((await collect(store.names('n/'))).sort()).toEqual(['a', 'b/', 'e/']);
      expect((await collect(store.names(''))).sort()).toEqual(['n/', 'other']);
      expect(await collect(store.names('missing/'))).toEqual([]);
    });

    it('stores a streamed body byte for byte', async () => {
      const store = await freshStore();
      const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
      const info = await store.put('p/q.bin', Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]));
      expect(info.size).toBe(bytes.length);
      expect((await getBuffer(store, 'p/q.bin'))?.equals(bytes)).toBe(true);
      const object = await store.get('p/q.bin');
      expect(object?.size).toBe(bytes.length);
      object?.body.destroy();
    });

    it('replaces an object whole, with a new ETag and the new metadata only', async () => {
      const store = await freshStore();
      const first = await store.put('k', Buffer.from('one'), { metadata: { a: '1' } });
      const second = await store.put('k', Buffer.from('two!'), { metadata: { b: '2' } });
      expect(second.etag).not.toBe(first.etag);
      expect((await getBuffer(store, 'k'))?.toString()).toBe('two!');
      expect((await store.head('k'))?.metadata).toEqual({ b: '2' });
    });

    it('takes a delete of a missing key quietly', async () => {
      const store = await freshStore();
      await expect(store.delete('never/was')).resolves.toBeUndefined();
    });

    it('announces each object it stores', async () => {
      const store = await freshStore();
      const seen: string[] = [];
      const stop = store.onObjectCreated((key) => seen.push(key));
      await store.put('originals/one', Buffer.from('1'));
      stop();
      await store.put('originals/two', Buffer.from('2'));
      expect(seen).toEqual(['originals/one']);
    });
  });
}

const tempDirs = useTempDirs();
storeContract('fs (a folder)', async () => createFsStore(await tempDirs(), 'bucket'));

let s3: S3Server;
let gate: IamS3;
let buckets = 0;
beforeAll(async () => {
  s3 = await startS3rver(Array.from({ length: 8 }, (_, i) => `contract-${i}`));
  // s3rver takes any SigV4 signature; the gate checks them as S3 does.
  gate = await startIamS3(s3.endpoint, undefined, { store: ANY_SIGNED });
});
afterAll(async () => {
  await gate.close();
  await s3.close();
});
storeContract('s3 (s3rver, signatures checked)', async () =>
  createS3Store(createS3Client({ endpoint: gate.endpoints.store, forcePathStyle: true, region: 'us-east-1' }), `contract-${buckets++}`),
);
