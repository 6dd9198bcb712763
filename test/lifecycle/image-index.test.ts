import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createImages } from '../../src/lifecycle/images.js';
import { ingestOriginal } from '../../src/lifecycle/ingest.js';
import { noisy } from '../helpers/images.js';
import { isIndexed, reindex } from '../../src/lifecycle/reindex.js';
import { ALL_IMAGES, entryName, indexImage, indexKeys, ownerImages, parseEntry } from '../../src/processing/image-index.js';
import { originalKey, pendingKey } from '../../src/processing/keys.js';
import { findUnfinished } from '../../src/processing/recovery.js';
import { toObjectMetadata } from '../../src/processing/original-metadata.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { collect } from '../helpers/collect.js';
import { storeImage } from '../helpers/stored-images.js';
import { useTempDirs } from '../helpers/temp.js';

const tempDirs = useTempDirs();
const T = Date.UTC(2026, 0, 1);

async function stores() {
  const dir = await tempDirs();
  const input = createFsStore(dir, 'in');
  const output = createFsStore(dir, 'out');
  return { input, output, images: createImages({ input, output, config: loadConfig({ DATA_DIR: dir }) }) };
}

const ids = (records: { id: string }[]) => records.map((record) => record.id);

describe('the image index', () => {
  it('names entries so that key order is newest first, then by id, and reads them back', () => {
    const names = [entryName(T, 'b'), entryName(T + 1, 'z'), entryName(T, 'a'), entryName(T - 10_000_000_000, 'c')];
    expect(names.sort()).toEqual([entryName(T + 1, 'z'), entryName(T, 'a'), entryName(T, 'b'), entryName(T - 10_000_000_000, 'c')]);
    expect(parseEntry(ALL_IMAGES, ALL_IMAGES + entryName(T, 'id-with-dashes'))).toMatchObject({ time: T, id: 'id-with-dashes' });
    expect(parseEntry(ALL_IMAGES, `${ALL_IMAGES}ready`)).toBeUndefined();
    // An owner id another tool wrote cannot make a path of its own.
    expect(ownerImages('../x/y')).toMatch(/^index\/owner\/~[0-9a-f]{32}\/$/);
  });

  it('never lists a file whose name is no image id (the API could not reach it), and drops such entries an earlier release wrote', async () => {
    const { input, output, images } = await stores();
    await storeImage(input, output, { id: 'kept', uploadedAt: T });
    for (let i = 0; i < 30; i++) {
      await input.put(originalKey(`holiday photo ${i}.jpg`), Buffer.from('x'), { metadata: toObjectMetadata({ uploadedAt: T + 1 + i }) });
      await indexImage(input, `holiday photo ${i}.jpg`, { lastModified: new Date(T + 1 + i), metadata: toObjectMetadata({ uploadedAt: T + 1 + i }) });
    }
    // What an earlier release wrote for such a name.
    await input.put(ALL_IMAGES + entryName(T + 100, 'old photo.jpg'), Buffer.alloc(0));
    expect(ids((await images.list({ limit: 10, owner: undefined })).records)).toEqual(['kept']);
    expect(await collect(input.list(ALL_IMAGES))).toHaveLength(1);
  });

  it('stores an upload only once its index entries are written: the original never stands without them', async () => {
    const dir = await tempDirs();
    const files = createFsStore(dir, 'in');
    let originalBeforeEntries = false;
    // Entries that take their time: the original must wait for them, not only start after them.
    const input = {
      ...files,
      put: async (...args: Parameters<typeof files.put>) => {
        if (!args[0].startsWith('index/')) return files.put(...args);
        await new Promise((resolve) => setTimeout(resolve, 50));
        const info = await files.put(...args);
        if (await files.head(originalKey('upload'))) originalBeforeEntries = true;
        return info;
      },
    };
    const path = join(dir, 'spooled.jpg');
    await writeFile(path, await noisy(300, 200));
    await ingestOriginal(input, loadConfig({ DATA_DIR: dir }), { id: 'upload', file: { path, discard: async () => undefined } });
    expect(originalBeforeEntries).toBe(false);
    expect(await files.head(originalKey('upload'))).toMatchObject({ metadata: { indexed: 'true', marked: 'true' } });
    // Marked under way by the upload itself: a restart before its processing still finds it.
    expect(await files.head(pendingKey('upload'))).toBeDefined();
    expect((await collect(files.list(ALL_IMAGES))).map((entry) => parseEntry(ALL_IMAGES, entry.key)?.id)).toEqual(['upload']);
  });

  it('at start-up, keeps a young pending marker whose original has not come yet, and drops an old one', async () => {
    const { input, output } = await stores();
    await input.put(pendingKey('arriving'), Buffer.alloc(0));
    await input.put(pendingKey('cut-short'), Buffer.alloc(0));
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(input.localPath(pendingKey('cut-short')), old, old);
    expect(await findUnfinished(input, output, { byName: false })).toEqual([]);
    expect(await input.head(pendingKey('arriving'))).toBeDefined();
    expect(await input.head(pendingKey('cut-short'))).toBeUndefined();
  });

  it('passes over a young entry whose original has not come yet (an upload lists before it stores), and drops it once it is old', async () => {
    const { input, output, images } = await stores();
    await storeImage(input, output, { id: 'kept', uploadedAt: T });
    const now = Date.now();
    const young = { lastModified: new Date(now), metadata: toObjectMetadata({ uploadedAt: now }) };
    const old = { lastModified: new Date(now - 2 * 3600_000), metadata: toObjectMetadata({ uploadedAt: now - 2 * 3600_000 }) };
    await indexImage(input, 'arriving', young);
    await indexImage(input, 'cut-short', old);
    expect(ids((await images.list({ limit: 10, owner: undefined })).records)).toEqual(['kept']);
    // The young entry stays for its original; the old one, whose upload never finished, is gone.
    expect((await collect(input.list(ALL_IMAGES))).map((entry) => parseEntry(ALL_IMAGES, entry.key)?.id).sort()).toEqual(['arriving', 'kept']);
    await input.put(originalKey('arriving'), Buffer.from('x'), { metadata: young.metadata });
    expect(ids((await images.list({ limit: 10, owner: undefined })).records)).toEqual(['arriving', 'kept']);
  });

  it('drops an entry whose image is gone, or was stored again at another time, and lists the image once', async () => {
    const { input, output, images } = await stores();
    await storeImage(input, output, { id: 'kept', uploadedAt: T });
    await storeImage(input, output, { id: 'gone', uploadedAt: T + 1 });
    await storeImage(input, output, { id: 'again', uploadedAt: T + 2 });
    // A crash between a delete's steps: the original went, its entries stayed. And a new upload under the same id.
    await input.delete(originalKey('gone'));
    await output.delete('gone/manifest.json');
    await storeImage(input, output, { id: 'again', uploadedAt: T + 3, done: false });
    expect(ids((await images.list({ limit: 10, owner: undefined })).records)).toEqual(['again', 'kept']);
    // Once the new bytes are processed, the old entry no longer matches its manifest and goes.
    await storeImage(input, output, { id: 'again', uploadedAt: T + 3 });
    expect(ids((await images.list({ limit: 10, owner: undefined })).records)).toEqual(['again', 'kept']);
    expect((await collect(input.list(ALL_IMAGES))).map((object) => parseEntry(ALL_IMAGES, object.key))).toMatchObject([{ id: 'again', time: T + 3 }, { id: 'kept' }]);
  });

  it('is made by a reindex for what an earlier release stored, which also marks what that left unfinished', async () => {
    const { input, output, images } = await stores();
    // As an earlier release left them: originals, one with an owner, one processed; no index.
    await input.put(originalKey('theirs'), Buffer.from('x'), { metadata: toObjectMetadata({ owner: 'owner-a', uploadedAt: T }) });
    await input.put(originalKey('shared'), Buffer.from('y'), { metadata: toObjectMetadata({ uploadedAt: T + 1 }) });
    expect((await images.list({ limit: 10, owner: undefined })).records).toEqual([]);
    expect(await isIndexed(input)).toBe(false);

    expect(await reindex(input, output)).toBe(2);
    expect(await isIndexed(input)).toBe(true);
    expect(ids((await images.list({ limit: 10, owner: { id: 'owner-a' } })).records)).toEqual(['shared', 'theirs']);
    expect(ids((await images.list({ limit: 10, owner: { id: 'owner-b' } })).records)).toEqual(['shared']);
    // Neither has a final manifest: both are marked for the start-up recovery.
    expect((await collect(input.names('pending/'))).sort()).toEqual(['shared', 'theirs']);
    // Run again, nothing changes.
    await reindex(input, output);
    expect((await collect(input.list('index/'))).map((object) => object.key).sort()).toEqual(
      [...indexKeys('theirs', (await input.head(originalKey('theirs')))!), ...indexKeys('shared', (await input.head(originalKey('shared')))!), 'index/ready'].sort(),
    );
  });
});
