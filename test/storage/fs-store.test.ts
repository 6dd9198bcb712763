import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createFsStore, tempDir } from '../../src/storage/fs-store.js';
import { getBuffer } from '../../src/storage/object-store.js';
import { collect } from '../helpers/collect.js';
import { useTempDirs } from '../helpers/temp.js';

const tempDirs = useTempDirs();

/** What every store promises is in contract.test.ts; here, what a folder adds. */
describe('fs object store', () => {
  it('lists in S3’s byte order, where a folder sorts as its name and a slash (s3rver does not: hence here)', async () => {
    const store = createFsStore(await tempDirs(), 'bucket');
    for (const key of ['b', 'a0', 'a/c', 'a-b', 'a/b']) await store.put(key, Buffer.from(key));
    const keys = async (options?: { startAfter?: string; limit?: number }) => (await collect(store.list('', options))).map((o) => o.key);
    expect(await keys()).toEqual(['a-b', 'a/b', 'a/c', 'a0', 'b']);
    expect(await keys({ startAfter: 'a-b', limit: 2 })).toEqual(['a/b', 'a/c']);
  });

  it('keeps an object as the file under its key, in its bucket folder', async () => {
    const dir = await tempDirs();
    const store = createFsStore(dir, 'bucket');
    await store.put('a/b.txt', Buffer.from('hello'), { contentType: 'text/plain', metadata: { filename: 'x' } });
    expect(await readFile(join(dir, 'bucket/a/b.txt'), 'utf8')).toBe('hello');
  });

  it('reads a whole object in one buffer, and nothing for a missing key or a folder', async () => {
    const store = createFsStore(await tempDirs(), 'bucket');
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    await store.put('p/q.bin', Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]));
    expect((await store.read!('p/q.bin'))?.equals(bytes)).toBe(true);
    expect(await store.read!('p/missing.bin')).toBeUndefined();
    expect(await store.read!('p')).toBeUndefined();
    expect(await store.read!('p/q.bin/deeper')).toBeUndefined();
  });

  it.each(['../escape', 'a/../../escape', '/etc/passwd', 'a//b', './a', 'a\\..\\b', 'nul\0byte', ''])(
    'refuses the key %j, which could leave its folder',
    async (key) => {
      const dir = await tempDirs();
      const store = createFsStore(join(dir, 'data'), 'bucket');
      await expect(store.put(key, Buffer.from('x'))).rejects.toMatchObject({ code: 'invalid_key' });
      await expect(store.head(key)).rejects.toMatchObject({ code: 'invalid_key' });
      expect(await readdir(dir)).not.toContain('escape');
    },
  );

  it('leaves no partial object when the body fails half-way', async () => {
    const dir = await tempDirs();
    const store = createFsStore(dir, 'bucket');
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024, 1));
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(store.put('broken', failing)).rejects.toThrow('connection reset');
    expect(await store.head('broken')).toBeUndefined();
    expect(await readdir(tempDir(dir))).toEqual([]);
  });

  it('replaces an object atomically: a reader holds the old bytes or the new, never a mix', async () => {
    const store = createFsStore(await tempDirs(), 'bucket');
    await store.put('k', Buffer.alloc(1 << 20, 'a'));
    const reader = await store.get('k');
    await store.put('k', Buffer.alloc(1 << 20, 'b'));
    const old = Buffer.concat(await reader!.body.toArray());
    expect(old.every((byte) => byte === 'a'.charCodeAt(0))).toBe(true);
    expect((await getBuffer(store, 'k'))!.every((byte) => byte === 'b'.charCodeAt(0))).toBe(true);
  });

  it('sees a file another tool dropped into the folder, without metadata', async () => {
    const dir = await tempDirs();
    const store = createFsStore(dir, 'bucket');
    await mkdir(join(dir, 'bucket/originals'), { recursive: true });
    await writeFile(join(dir, 'bucket/originals/dropped.jpg'), 'bytes');
    expect(await store.head('originals/dropped.jpg')).toMatchObject({ size: 5, metadata: {} });
  });

  it('does not trust metadata written for a file that was replaced behind its back', async () => {
    const dir = await tempDirs();
    const store = createFsStore(dir, 'bucket');
    const first = await store.put('k', Buffer.from('first'), { metadata: { filename: 'first.jpg' } });
    await writeFile(join(dir, 'bucket/k'), 'second version');
    const now = await store.head('k');
    expect(now?.etag).not.toBe(first.etag);
    expect(now?.metadata).toEqual({});
  });
});

describe('fs object store, derived objects written unsynced and synced together', () => {
  it('shows an unsynced object whole with its type and metadata, syncs it, and takes a key a delete removed meanwhile', async () => {
    const dir = await tempDirs();
    const store = createFsStore(dir, 'bucket');
    await store.putUnsynced('img/small.webp', Buffer.from('variant bytes'), { contentType: 'image/webp', metadata: { a: 'b' } });
    await store.putUnsynced('img/large.webp', Buffer.from('larger variant bytes'));
    expect((await getBuffer(store, 'img/small.webp'))?.toString()).toBe('variant bytes');
    expect(await store.head('img/small.webp')).toMatchObject({ contentType: 'image/webp', metadata: { a: 'b' }, etag: `"${createHash('md5').update('variant bytes').digest('hex')}"` });
    await store.delete('img/large.webp');
    await expect(store.sync(['img/small.webp', 'img/large.webp'])).resolves.toBeUndefined();
    expect(await collect(store.list('img/'))).toHaveLength(1);
    // Nothing is left in the scratch folder.
    expect(await readdir(tempDir(dir))).toEqual([]);
  });
});

describe('fs object store, derived objects with nothing but their bytes', () => {
  it('keeps no metadata file for them: the type comes from the name, the ETag from the file, and changes with it', async () => {
    const dir = await tempDirs();
    const store = createFsStore(dir, 'bucket');
    const written = await store.putUnsynced('img/medium.webp', Buffer.from('variant bytes'), { contentType: 'image/webp' });
    await store.putUnsynced('img/manifest.json', Buffer.from('{}'), { contentType: 'application/json' });
    expect(await readdir(join(dir, '.meta', 'bucket')).catch(() => [])).toEqual([]);
    expect(await store.head('img/medium.webp')).toMatchObject({ contentType: 'image/webp', etag: written.etag, metadata: {} });
    expect((await store.head('img/manifest.json'))?.contentType).toBe('application/json');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const again = await store.putUnsynced('img/medium.webp', Buffer.from('other variant bytes'), { contentType: 'image/webp' });
    expect(again.etag).not.toBe(written.etag);
    expect((await store.head('img/medium.webp'))?.etag).toBe(again.etag);
    // Synced as written, named later: whole for every reader at once.
    await store.putNamedLater('img/large.webp', Buffer.from('large variant bytes'), { contentType: 'image/webp' });
    expect((await getBuffer(store, 'img/large.webp'))?.toString()).toBe('large variant bytes');
    await expect(store.syncNames(['img/large.webp', 'gone/deleted.webp'])).resolves.toBeUndefined();
    // A type the name does not tell, or metadata, is kept as before.
    await store.putUnsynced('img/odd.webp', Buffer.from('x'), { contentType: 'image/png' });
    expect((await store.head('img/odd.webp'))?.contentType).toBe('image/png');
  });
});

describe('fs object store, moving a local file in', () => {
  it('takes a file by rename, with its metadata, and announces it', async () => {
    const dir = await tempDirs();
    const store = createFsStore(dir, 'bucket');
    const seen: string[] = [];
    store.onObjectCreated((key) => seen.push(key));
    const spooled = join(dir, 'spooled-upload');
    await writeFile(spooled, 'uploaded bytes');
    const info = await store.putFile!('originals/x', spooled, { contentType: 'image/jpeg', metadata: { filename: 'x.jpg' } });
    expect(info).toMatchObject({ size: 14, contentType: 'image/jpeg' });
    expect((await getBuffer(store, 'originals/x'))?.toString()).toBe('uploaded bytes');
    expect(await store.head('originals/x')).toMatchObject({ etag: info.etag, metadata: { filename: 'x.jpg' } });
    expect(await readdir(dir)).not.toContain('spooled-upload');
    expect(seen).toEqual(['originals/x']);
  });
});
