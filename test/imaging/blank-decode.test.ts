import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { originalKey } from '../../src/processing/keys.js';
import { readManifest } from '../../src/processing/manifest.js';
import { createProcessor } from '../../src/processing/processor.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { noisy } from '../helpers/images.js';
import { tiff } from '../helpers/tiff-writer.js';
import { useTempDirs } from '../helpers/temp.js';

const tempDirs = useTempDirs();

/** Processes one original as production does (probe, decode, render, manifest) and returns its manifest. */
async function processed(original: Buffer) {
  const dir = await tempDirs();
  const config = loadConfig({ DATA_DIR: dir });
  const input = createFsStore(dir, config.inputBucket);
  const output = createFsStore(dir, config.outputBucket);
  await input.put(originalKey('img'), original);
  await createProcessor({ input, output, config }).process('img');
  return readManifest(output, 'img');
}

/** A tiled, deflated TIFF of noise with a run of its tile data overwritten: some tiles cannot be inflated. */
async function tiffWithBrokenTiles(): Promise<Buffer> {
  const tiff = Buffer.from(await sharp(await noisy(512, 512)).tiff({ compression: 'deflate', tile: true, tileWidth: 128, tileHeight: 128 }).toBuffer());
  for (let i = Math.floor(tiff.length * 0.3); i < tiff.length * 0.5; i++) tiff[i] = (i * 7919) & 0xff;
  return tiff;
}

describe('a decode that yields nothing is never done', () => {
  it('fails a TIFF whose tiles libvips cannot read, instead of rendering the holes as black', async () => {
    const manifest = await processed(await tiffWithBrokenTiles());
    expect(manifest).toMatchObject({ status: 'failed', error: { code: 'decode_failed', message: expect.stringContaining('TIFF') } });
    expect(manifest?.variants ?? []).toEqual([]);
  });

  it('still takes a TIFF with tags libtiff warns about, since they touch no pixel', async () => {
    // A private tag libtiff does not know, and a resolution unit of the wrong type.
    expect(await processed(tiff([[65000, 3, 1], [296, 9, 2]]))).toMatchObject({ status: 'done' });
  });

  it('fails an image that decodes to nothing visible (every pixel transparent), in our words', async () => {
    const clear = await sharp({ create: { width: 320, height: 200, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    const manifest = await processed(clear);
    expect(manifest).toMatchObject({ status: 'failed', error: { code: 'decode_failed', message: expect.stringContaining('nothing visible') } });
  });

  it('takes an image with a single visible pixel: only nothing at all is refused', async () => {
    const clear = sharp({ create: { width: 320, height: 200, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } });
    const dot = await sharp({ create: { width: 2, height: 2, channels: 4, background: '#ff0000' } }).png().toBuffer();
    const almost = await clear.composite([{ input: dot, left: 318, top: 198 }]).png().toBuffer();
    expect(await processed(almost)).toMatchObject({ status: 'done' });
  });
});
