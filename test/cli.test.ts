import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { createImages } from '../src/lifecycle/images.js';
import { createFsStore } from '../src/storage/fs-store.js';
import type { ObjectStore } from '../src/storage/object-store.js';
import { createS3Client, createS3Store } from '../src/storage/s3-store.js';
import { halfTransparent, noisy } from './helpers/images.js';
import { cli } from './helpers/cli.js';
import { startS3rver } from './helpers/s3rver.js';
import { storeImage } from './helpers/stored-images.js';
import { useTempDirs } from './helpers/temp.js';

const tempDirs = useTempDirs();

describe('batch CLI', () => {
  it('processes a folder into <out>/<name>/<variant>.<ext>, names the file it could not process, and exits 1', async () => {
    const folder = await tempDirs();
    const out = await tempDirs();
    await mkdir(join(folder, 'trip'));
    await writeFile(join(folder, 'beach.jpg'), await noisy(1200, 800));
    await writeFile(join(folder, 'trip', 'logo.png'), await halfTransparent());
    await writeFile(join(folder, 'notes.jpg'), 'a text file with an image name');

    const result = await cli(['process', folder, '--out', out], { WATERMARK_TEXT: 'CLI' });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('processed 2 of 3 files');
    expect(result.stderr).toMatch(/failed: .*notes\.jpg: unsupported_format/);
    expect((await readdir(out)).sort()).toEqual(['beach', 'logo']);
    expect((await readdir(join(out, 'beach'))).sort()).toEqual(['large.jpg', 'medium.jpg', 'thumbnail.jpg']);
    expect(await sharp(join(out, 'beach', 'medium.jpg')).metadata()).toMatchObject({ format: 'jpeg', width: 800, height: 533 });
  });

  it('exits 0 when every file is processed, and honours VARIANTS', async () => {
    const folder = await tempDirs();
    const out = await tempDirs();
    await writeFile(join(folder, 'a.jpg'), await noisy(400, 300));
    const result = await cli(['process', join(folder, 'a.jpg'), '--out', out], { VARIANTS: 'tiny:64x64:cover:webp' });
    expect(result.code).toBe(0);
    expect(await readdir(join(out, 'a'))).toEqual(['tiny.webp']);
  });

  it('processes a BMP, whose decoder runs in a worker thread built from its own source', async () => {
    const out = await tempDirs();
    const result = await cli(['process', join(import.meta.dirname, 'fixtures/scene.bmp'), '--out', out], { VARIANTS: 'tiny:64x64:inside:png' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await sharp(join(out, 'scene', 'tiny.png')).metadata()).toMatchObject({ format: 'png', width: 64 });
  });

  it('prints its usage and exits 2 without a command, paths or --out', async () => {
    const result = await cli(['process', 'somewhere']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: image-processor process');
  });
});

describe('reindex', () => {
  /** An earlier release's store: originals and manifests, no index. */
  async function earlierStore(input: ObjectStore, output: ObjectStore) {
    for (const [i, owner] of ['owner-a', 'owner-b', undefined].entries()) {
      await storeImage(input, output, { id: `img-${i}`, uploadedAt: Date.UTC(2026, 0, 1 + i), ...(owner ? { owner } : {}) });
    }
    for await (const object of input.list('index/')) await input.delete(object.key);
  }

  it('lists the images of a store written before the index: local folders, and S3 buckets', async () => {
    const dir = await tempDirs();
    const folders = { input: createFsStore(dir, 'image-processor-input-bucket'), output: createFsStore(dir, 'image-processor-output-bucket') };
    await earlierStore(folders.input, folders.output);
    expect((await cli(['reindex', '--data-dir', dir])).stdout).toMatch(/^indexed 3 images in [\d.]+ s$/m);
    const images = createImages({ ...folders, config: loadConfig({ DATA_DIR: dir }) });
    expect((await images.list({ limit: 10, owner: { id: 'owner-a' } })).records.map((record) => record.id)).toEqual(['img-2', 'img-0']);
    expect((await images.list({ limit: 10, owner: undefined })).records.map((record) => record.id)).toEqual(['img-2', 'img-1', 'img-0']);

    const s3 = await startS3rver(['reindex-in', 'reindex-out']);
    try {
      const client = createS3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1' });
      const buckets = { input: createS3Store(client, 'reindex-in'), output: createS3Store(client, 'reindex-out') };
      await earlierStore(buckets.input, buckets.output);
      const env = { S3_ENDPOINT: s3.endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_REGION: 'us-east-1', OUTPUT_BUCKET: 'reindex-out' };
      expect((await cli(['reindex', '--bucket', 'reindex-in'], env)).stdout).toContain('indexed 3 images');
      const onS3 = createImages({ ...buckets, config: loadConfig({}) });
      expect((await onS3.list({ limit: 10, owner: { id: 'owner-b' } })).records.map((record) => record.id)).toEqual(['img-2', 'img-1']);
    } finally {
      await s3.close();
    }
  });

  it('names what it needs when the arguments are wrong', async () => {
    const wrong = await cli(['reindex']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('image-processor reindex (--data-dir <dir> | --bucket <name>)');
  });
});
