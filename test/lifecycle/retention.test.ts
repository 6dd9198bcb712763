import { describe, expect, it } from 'vitest';
import { findTwin } from '../../src/processing/dedup.js';
import { originalKey } from '../../src/processing/keys.js';
import { readManifest } from '../../src/processing/manifest.js';
import { toObjectMetadata } from '../../src/processing/original-metadata.js';
import { createProcessor } from '../../src/processing/processor.js';
import { sweepExpired } from '../../src/lifecycle/retention.js';
import { loadConfig } from '../../src/config/config.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { solid } from '../helpers/images.js';
import { useTempDirs } from '../helpers/temp.js';

const tempDirs = useTempDirs();

describe('retention sweeper', () => {
  it('removes images older than RETENTION_DAYS, originals, outputs and records, and keeps the rest', async () => {
    const dir = await tempDirs();
    const config = loadConfig({ DATA_DIR: dir });
    const input = createFsStore(dir, config.inputBucket);
    const output = createFsStore(dir, config.outputBucket);
    const processor = createProcessor({ input, output, config });
    // As uploads ten days ago and now would be stored: the upload time in metadata is what expires.
    const tenDaysAgo = Date.now() - 10 * 86_400_000;
    for (const [id, uploadedAt] of [['old', tenDaysAgo], ['new', Date.now()]] as const) {
      await input.put(originalKey(id), await solid(200, 100, '#333333'), { metadata: toObjectMetadata({ uploadedAt }) });
      await processor.process(id);
    }
    const oldPrint = (await readManifest(output, 'old'))!.fingerprint!;
    expect(await findTwin(input, oldPrint)).toBe('old');

    expect(await sweepExpired(input, output, 0, new Date())).toEqual([]);
    expect(await sweepExpired(input, output, 7, new Date())).toEqual(['old']);
    expect(await input.head(originalKey('old'))).toBeUndefined();
    expect(await readManifest(output, 'old')).toBeUndefined();
    expect(await output.head('old/thumbnail.jpg')).toBeUndefined();
    // As a delete: the dedup record answering for it goes too, so nothing outlives the image.
    expect(await findTwin(input, oldPrint)).toBeUndefined();
    expect(await readManifest(output, 'new')).toMatchObject({ status: 'done' });
  });
});
