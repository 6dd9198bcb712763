import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createRenders, type RenderSpec } from '../../src/lifecycle/renders.js';
import { intermediateKey, originalKey } from '../../src/processing/keys.js';
import { createProcessor } from '../../src/processing/processor.js';
import { openS3Buckets } from '../../src/storage/backends.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { getBuffer, type ObjectStore } from '../../src/storage/object-store.js';
import { animatedGif, pixel, solid } from '../helpers/images.js';
import { startS3rver } from '../helpers/s3rver.js';
import { useTempDirs } from '../helpers/temp.js';

const tempDirs = useTempDirs();

/** Photo-like: noise softened into detail a downscale keeps, in colour. */
const photo = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#6080a0', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
    .blur(1.5)
    .jpeg({ quality: 92 })
    .toBuffer();

async function setUp(env: Record<string, string> = { ONDEMAND_INTERMEDIATE: 'true' }) {
  const dir = await tempDirs();
  const config = loadConfig({ DATA_DIR: dir, WATERMARK_TEXT: '', ...env });
  const files = createFsStore(dir, config.inputBucket);
  const output = createFsStore(dir, config.outputBucket);
  // A render process reads the file at the path it is given: a path handed out is a read of the original.
  const originals = { reads: 0 };
  const input = { ...files, localPath: (key: string) => (originals.reads++, files.localPath(key)) } as ObjectStore;
  const processor = createProcessor({ input, output, config });
  const renders = createRenders({ input, output, config });
  async function upload(id: string, bytes: Buffer) {
    await input.put(originalKey(id), bytes);
    expect((await processor.process(id)).status).toBe('done');
  }
  return { input, output, renders, originals, upload };
}

const spec = (width: number, more: Partial<RenderSpec> = {}): RenderSpec => ({ width, height: 16384, fit: 'inside', format: 'webp', ...more });

/** Peak signal-to-noise ratio of `b` against `a`, in dB. */
async function psnr(a: Buffer, b: Buffer): Promise<number> {
  const [x, y] = await Promise.all([a, b].map((image) => sharp(image).removeAlpha().raw().toBuffer()));
  let sum = 0;
  for (let i = 0; i < x!.length; i++) sum += (x![i]! - y![i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (sum / x!.length));
}

describe('the intermediate on-demand renders are made from', () => {
  it('is kept, when asked, for a large opaque photo at the largest variant’s size, unmarked, and not where it would not pay', async () => {
    const { output, upload } = await setUp();
    await upload('large', await photo(2400, 1800));
    const kept = await output.head(intermediateKey('large'));
    expect(kept?.metadata).toMatchObject({ width: '1600', height: '1200', 'original-width': '2400', 'original-height': '1800' });
    const meta = await sharp((await getBuffer(output, intermediateKey('large')))!).metadata();
    expect([meta.format, meta.width, meta.height, meta.chromaSubsampling]).toEqual(['jpeg', 1600, 1200, '4:4:4']);

    // Not for a photo the largest variant barely shrinks, nor for transparency or an animation.
    await upload('small', await photo(1400, 1050));
    const transparent = await sharp({ create: { width: 2400, height: 1800, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.5 } } }).png().toBuffer();
    await upload('alpha', transparent);
    await upload('animated', await animatedGif(2400, 1800, 2));
    for (const id of ['small', 'alpha', 'animated']) expect(await output.head(intermediateKey(id)), id).toBeUndefined();

    // Not at all unless ONDEMAND_INTERMEDIATE asks for it: it costs the processor.
    const plain = await setUp({});
    await plain.upload('large', await photo(2400, 1800));
    expect(await plain.output.head(intermediateKey('large'))).toBeUndefined();
  });

  it('serves the sizes it holds, and larger ones and smart crops come from the original: the same size either way', async () => {
    const { output, renders, originals, upload } = await setUp();
    await upload('photo', await photo(2400, 1800));
    // Red in its place, with its description: a render that is red was made from it.
    const kept = (await output.head(intermediateKey('photo')))!;
    await output.put(intermediateKey('photo'), await solid(1600, 1200, '#ff0000'), { contentType: 'image/jpeg', metadata: kept.metadata });
    const red = async (render: { data?: Buffer }) => (await pixel(render.data!, 10, 10))[0] > 200;

    const small = await renders.stored('photo', spec(320, { format: 'jpeg' }));
    const cropped = await renders.stored('photo', spec(300, { height: 300, fit: 'cover', format: 'jpeg' }));
    const widest = await renders.stored('photo', spec(1600, { format: 'jpeg' }));
    for (const render of [small, cropped, widest]) expect(await red(render)).toBe(true);
    expect(originals.reads).toBe(0);
    const sizes = await Promise.all([small, cropped, widest].map(async (render) => sharp(render.data!).metadata()));
    expect(sizes.map(({ width, height }) => [width, height])).toEqual([[320, 240], [300, 300], [1600, 1200]]);

    const larger = await renders.stored('photo', spec(1700, { format: 'jpeg' }));
    expect(await red(larger)).toBe(false);
    expect(originals.reads).toBe(1);
    // A smart crop goes where the pixels lead it: the original's.
    expect(await red(await renders.stored('photo', spec(300, { height: 300, fit: 'attention', format: 'jpeg' })))).toBe(false);
    expect(originals.reads).toBe(2);
    const { width, height } = await sharp(larger.data!).metadata();
    expect([width, height]).toEqual([1700, 1275]);
  });

  it('gives what the original gives: against a lossless render of the original, within 0.5 dB of a render from it', async () => {
    const { output, renders, upload } = await setUp();
    const bytes = await photo(3200, 2400);
    await upload('kept', bytes);
    await upload('without', bytes);
    await output.delete(intermediateKey('without'));
    for (const ask of [spec(640), spec(960), spec(400, { height: 400, fit: 'cover' })]) {
      const exact = (await renders.stored('without', { ...ask, format: 'png' })).data!;
      const [fromIntermediate, fromOriginal] = await Promise.all(['kept', 'without'].map(async (id) => (await renders.stored(id, ask)).data!));
      const lost = (await psnr(exact, fromOriginal!)) - (await psnr(exact, fromIntermediate!));
      expect(lost, JSON.stringify(ask)).toBeLessThan(0.5);
    }
  });

  it('is passed over when it was made from an earlier upload of the original, or cannot be read', async () => {
    const { input, output, renders, originals, upload } = await setUp();
    await upload('photo', await photo(2400, 1800));
    const kept = (await output.head(intermediateKey('photo')))!;
    await output.put(intermediateKey('photo'), await solid(1600, 1200, '#ff0000'), { contentType: 'image/jpeg', metadata: { ...kept.metadata, 'original-etag': 'an-earlier-upload' } });
    const first = await renders.stored('photo', spec(320, { format: 'jpeg' }));
    expect((await pixel(first.data!, 10, 10))[0]).toBeLessThan(200);
    expect(originals.reads).toBe(1);

    // Damaged (it is never synced): the render comes from the original, whole.
    await output.put(intermediateKey('photo'), Buffer.from('not a jpeg at all'), { contentType: 'image/jpeg', metadata: kept.metadata });
    const second = await renders.stored('photo', spec(400, { format: 'jpeg' }));
    expect((await sharp(second.data!).metadata()).width).toBe(400);
    expect(originals.reads).toBe(2);
    expect(await input.head(originalKey('photo'))).toBeDefined();
  });

  it('works the same on an S3-protocol server: its description travels as the object’s metadata', async () => {
    const s3 = await startS3rver(['inter-in', 'inter-out']);
    try {
      const config = loadConfig({ STORAGE: 's3', S3_ENDPOINT: s3.endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_REGION: 'us-east-1', INPUT_BUCKET: 'inter-in', OUTPUT_BUCKET: 'inter-out', WATERMARK_TEXT: '', ONDEMAND_INTERMEDIATE: 'true' });
      const { input, output } = openS3Buckets(config);
      await input.put(originalKey('photo'), await photo(2400, 1800));
      expect((await createProcessor({ input, output, config, marksPending: false }).process('photo')).status).toBe('done');
      const kept = (await output.head(intermediateKey('photo')))!;
      expect(kept.metadata).toMatchObject({ width: '1600', height: '1200', 'original-width': '2400', 'original-height': '1800' });
      // Red in its place, with its description: the render below was made from it.
      await output.put(intermediateKey('photo'), await solid(1600, 1200, '#ff0000'), { contentType: 'image/jpeg', metadata: kept.metadata });
      const render = await createRenders({ input, output, config }).stored('photo', spec(320, { format: 'jpeg' }));
      expect((await pixel(render.data!, 10, 10))[0]).toBeGreaterThan(200);
      expect((await sharp(render.data!).metadata()).height).toBe(240);
    } finally {
      await s3.close();
    }
  });
});
