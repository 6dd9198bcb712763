import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import sharp from 'sharp';
import { thumbHashToAverageRGBA, thumbHashToRGBA } from 'thumbhash';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createImages } from '../../src/lifecycle/images.js';
import { originalKey, pendingKey } from '../../src/processing/keys.js';
import { readManifest } from '../../src/processing/manifest.js';
import { toObjectMetadata } from '../../src/processing/original-metadata.js';
import { createGate, type Gate } from '../../src/processing/gate.js';
import { createProcessor, removeOutputs } from '../../src/processing/processor.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { getBuffer, type PutOptions } from '../../src/storage/object-store.js';
import { collect } from '../helpers/collect.js';
import { noisy, pngHeaderOnly, solid } from '../helpers/images.js';
import { useTempDirs } from '../helpers/temp.js';

const tempDirs = useTempDirs();

async function setup(env: Record<string, string> = {}) {
  const dir = await tempDirs();
  const config = loadConfig({ DATA_DIR: dir, ...env });
  const input = createFsStore(dir, config.inputBucket);
  const output = createFsStore(dir, config.outputBucket);
  return { dir, config, input, output, processor: createProcessor({ input, output, config }) };
}

describe('processor', () => {
  it('renders no more images at once than its render gate lets through, and finishes them all', async () => {
    const { input, output, config } = await setup();
    const gate = createGate(1);
    let rendering = 0;
    let most = 0;
    const counting: Gate = {
      run: (work) =>
        gate.run(async () => {
          most = Math.max(most, ++rendering);
          try {
            return await work();
          } finally {
            rendering--;
          }
        }),
    };
    const processor = createProcessor({ input, output, config, renderGate: counting });
    const ids = ['g1', 'g2', 'g3'];
    for (const [i, id] of ids.entries()) await input.put(originalKey(id), await solid(900 + i, 600, '#336699'));
    const outcomes = await Promise.all(ids.map((id) => processor.process(id)));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['done', 'done', 'done']);
    expect(most).toBe(1);
  });

  it('marks an image pending and lists it before any of its work, and clears the mark with the final manifest', async () => {
    const { input, output, config } = await setup();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let atRender: { pending: boolean; manifest?: string; listed: string[] } | undefined;
    const watching: Gate = {
      run: async (work) => {
        // What a crash at this point would leave for the next start to find.
        atRender = {
          pending: (await input.head(pendingKey('marked'))) !== undefined,
          ...(await readManifest(output, 'marked').then((manifest) => (manifest ? { manifest: manifest.status } : {}))),
          listed: (await collect(input.list('index/'))).map((object) => object.key.split('/').slice(0, 2).join('/')),
        };
        await released;
        return work();
      },
    };
    const processor = createProcessor({ input, output, config, renderGate: watching });
    // Written as another tool would: no upload listed it.
    await input.put(originalKey('marked'), await solid(300, 200, '#336699'));
    const outcome = processor.process('marked');
    await vi.waitFor(() => expect(atRender).toBeDefined());
    expect(atRender).toEqual({ pending: true, manifest: 'processing', listed: ['index/all', 'index/shared'] });
    release();
    expect(await outcome).toMatchObject({ status: 'done' });
    expect(await input.head(pendingKey('marked'))).toBeUndefined();

    // Readers are told once the final manifest is written; it is synced, and the mark goes, after.
    const events: string[] = [];
    const spyInput = { ...input, delete: (key: string) => (events.push(`delete ${key}`), input.delete(key)) };
    const spyOutput = {
      ...output,
      putUnsynced: (key: string, body: Buffer, options?: PutOptions) => (events.push(`write ${key}`), output.putUnsynced(key, body, options)),
      sync: (keys: string[]) => (events.push(`sync ${keys.join(' ')}`), output.sync(keys)),
    };
    await input.put(originalKey('told'), await solid(300, 200, '#336699'));
    const telling = createProcessor({ input: spyInput, output: spyOutput, config });
    expect(await telling.process('told', { written: () => events.push('written') })).toMatchObject({ status: 'done' });
    expect(events.filter((event) => /written|told\/manifest|pending\/told/.test(event))).toEqual([
      'write told/manifest.json',
      'write told/manifest.json',
      'written',
      'sync told/manifest.json',
      'delete pending/told',
    ]);

    // A failure of the image's own is final too: no mark is left.
    await input.put(originalKey('broken'), Buffer.from('not an image at all'));
    expect(await processor.process('broken')).toMatchObject({ status: 'failed' });
    expect(await input.head(pendingKey('broken'))).toBeUndefined();
  });

  it('renders every variant, then writes a done manifest describing them', async () => {
    const { input, output, processor } = await setup();
    await input.put(originalKey('img1'), await noisy(2400, 1800), { metadata: toObjectMetadata({ filename: 'cat.jpg' }) });
    expect(await processor.process('img1')).toMatchObject({ status: 'done', variants: 3 });

    const manifest = await readManifest(output, 'img1');
    expect(manifest).toMatchObject({
      status: 'done',
      original: { format: 'jpeg', width: 2400, height: 1800, filename: 'cat.jpg' },
      variants: [
        { name: 'thumbnail', format: 'jpeg', width: 150, height: 150, key: 'img1/thumbnail.jpg' },
        { name: 'medium', format: 'jpeg', width: 800, height: 600, key: 'img1/medium.jpg' },
        { name: 'large', format: 'jpeg', width: 1600, height: 1200, key: 'img1/large.jpg' },
      ],
    });
    for (const variant of manifest!.variants) {
      const bytes = await getBuffer(output, variant.key);
      expect(bytes?.length).toBe(variant.bytes);
      expect(await sharp(bytes!).metadata()).toMatchObject({ format: 'jpeg', width: variant.width, height: variant.height });
    }
  });

  it('records a placeholder on done: a ThumbHash that decodes to the picture, and its dominant colour', async () => {
    const { input, output, processor } = await setup();
    await input.put(originalKey('teal'), await solid(640, 480, '#208080'));
    await processor.process('teal');
    const placeholder = (await readManifest(output, 'teal'))?.placeholder;
    expect(placeholder?.dominantColor).toMatch(/^#[0-9a-f]{6}$/);
    // The dominant colour is the mean of the fullest of 4096 bins: #208080, give or take JPEG noise.
    const channel = (at: number) => parseInt(placeholder!.dominantColor.slice(at, at + 2), 16);
    expect(Math.abs(channel(1) - 0x20)).toBeLessThanOrEqual(16);
    expect(Math.abs(channel(3) - 0x80)).toBeLessThanOrEqual(16);
    const decoded = thumbHashToRGBA(Buffer.from(placeholder!.thumbhash, 'base64'));
    expect(decoded.w / decoded.h).toBeCloseTo(640 / 480, 0);
    const average = thumbHashToAverageRGBA(Buffer.from(placeholder!.thumbhash, 'base64'));
    expect(Math.abs(average.r * 255 - 0x20)).toBeLessThan(12);
    expect(Math.abs(average.g * 255 - 0x80)).toBeLessThan(12);
  });

  it('does nothing on a repeated event for the same bytes', async () => {
    const { dir, config, input, processor } = await setup();
    await input.put(originalKey('img1'), await solid(400, 300, '#abcdef'));
    await processor.process('img1');
    const before = (await stat(join(dir, config.outputBucket, 'img1/medium.jpg'))).mtimeMs;
    expect(await processor.process('img1')).toEqual({ id: 'img1', status: 'skipped', reason: 'unchanged' });
    expect((await stat(join(dir, config.outputBucket, 'img1/medium.jpg'))).mtimeMs).toBe(before);
  });

  it('runs an original again after its run failed (killed, timed out, storage), not after the image failed', async () => {
    const { input, output, processor } = await setup();
    await input.put(originalKey('killed'), await solid(400, 300, '#abcdef'));
    await processor.markFailed('killed', 'out_of_memory', 'stopped for memory on every attempt');
    expect(await processor.process('killed')).toMatchObject({ status: 'done' });
    await input.put(originalKey('broken'), (await noisy(400, 300)).subarray(0, 500));
    expect(await processor.process('broken')).toMatchObject({ status: 'failed', error: { code: 'decode_failed' } });
    expect(await processor.process('broken')).toEqual({ id: 'broken', status: 'skipped', reason: 'unchanged' });
    expect((await readManifest(output, 'killed'))?.status).toBe('done');
  });

  it('survives the same event twice at the same time', async () => {
    const { input, output, processor } = await setup();
    await input.put(originalKey('twice'), await noisy(1600, 1200));
    const outcomes = await Promise.all([processor.process('twice'), processor.process('twice')]);
    expect(outcomes.some((o) => o.status === 'done')).toBe(true);
    const manifest = await readManifest(output, 'twice');
    expect(manifest?.status).toBe('done');
    for (const variant of manifest!.variants) expect((await sharp((await getBuffer(output, variant.key))!).metadata()).width).toBe(variant.width);
  });

  it('processes new bytes written under the same key again', async () => {
    const { input, output, processor } = await setup();
    await input.put(originalKey('same'), await solid(400, 300, 'red'));
    await processor.process('same');
    await input.put(originalKey('same'), await solid(500, 250, 'blue'));
    expect(await processor.process('same')).toMatchObject({ status: 'done' });
    expect((await readManifest(output, 'same'))?.original).toMatchObject({ width: 500, height: 250 });
  });

  it.each([
    ['decode_failed', async () => (await noisy(800, 600)).subarray(0, 5000)],
    ['unsupported_format', async () => Buffer.from('this is a text file, not a photo')],
    ['too_many_pixels', async () => pngHeaderOnly(50_000, 50_000)],
  ])('ends with a failed manifest coded %s', async (code, make) => {
    const { input, output, processor } = await setup();
    await input.put(originalKey('bad'), await make());
    expect(await processor.process('bad')).toMatchObject({ status: 'failed', error: { code } });
    expect(await readManifest(output, 'bad')).toMatchObject({ status: 'failed', error: { code }, variants: [] });
  });

  it('fails an original over MAX_UPLOAD_BYTES (a direct upload or another tool’s file) without reading it', async () => {
    const { input, output, processor } = await setup({ MAX_UPLOAD_BYTES: '1000' });
    await input.put(originalKey('huge'), await noisy(400, 300));
    expect(await processor.process('huge')).toMatchObject({ status: 'failed', error: { code: 'too_large' } });
    expect(await readManifest(output, 'huge')).toMatchObject({ status: 'failed', error: { code: 'too_large' } });
  });

  it('fails an image that overruns its deadline with timeout', async () => {
    const { input, output, config } = await setup();
    const processor = createProcessor({ input, output, config: { ...config, processTimeoutMs: 1 } });
    await input.put(originalKey('slow'), await noisy(3000, 2000));
    expect(await processor.process('slow')).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
  });

  it('leaves nothing of a variant no longer configured after a reprocess', async () => {
    const { dir, input, output } = await setup({ VARIANTS: 'small:100x100:inside,big:300x300:inside' });
    const first = createProcessor({ input, output, config: loadConfig({ DATA_DIR: dir, VARIANTS: 'small:100x100:inside,big:300x300:inside' }) });
    await input.put(originalKey('photo'), await solid(640, 480, '#336699'));
    expect(await first.process('photo')).toMatchObject({ status: 'done' });

    const config = loadConfig({ DATA_DIR: dir, VARIANTS: 'small:100x100:inside' });
    const again = createProcessor({ input, output, config });
    const images = createImages({ input, output, config, enqueue: async (id) => void (await again.process(id)) });
    expect(await images.reprocess('photo', undefined)).toBe(true);
    expect((await collect(output.list('photo/'))).map((object) => object.key).sort()).toEqual(['photo/manifest.json', 'photo/small.jpg']);
    expect((await readManifest(output, 'photo'))?.variants.map((variant) => variant.name)).toEqual(['small']);
  });

  it('skips an original that no longer exists', async () => {
    const { processor } = await setup();
    expect(await processor.process('gone')).toEqual({ id: 'gone', status: 'skipped', reason: 'missing' });
  });

  it('follows the upload’s watermark choice over the server default', async () => {
    const { input, output, processor } = await setup({ WATERMARK_TEXT: 'MARK' });
    await input.put(originalKey('plain'), await solid(1000, 800, '#000000'), { metadata: toObjectMetadata({ watermark: false }) });
    await input.put(originalKey('marked'), await solid(1000, 800, '#000000'));
    await processor.process('plain');
    await processor.process('marked');
    const brightest = async (id: string) => {
      const { data } = await sharp((await getBuffer(output, `${id}/medium.jpg`))!).raw().toBuffer({ resolveWithObject: true });
      return data.reduce((max, v) => Math.max(max, v), 0);
    };
    expect((await readManifest(output, 'plain'))?.watermark).toBe(false);
    expect(await brightest('plain')).toBeLessThan(20);
    expect(await brightest('marked')).toBeGreaterThan(100);
  });
});

describe('an image deleted while it is processed', () => {
  it('leaves nothing behind when the delete lands just as the final manifest is written: no outputs, no manifest, no dedup record', async () => {
    const { input, output, config } = await setup();
    await input.put(originalKey('gone'), await noisy(600, 400));
    // A DELETE (the original, then every output) that runs the moment the final manifest is written
    // (synced by a put, or written and then synced where the store defers syncs).
    const deleteIfFinal = async (key: string, body: Buffer | Readable) => {
      if (key === 'gone/manifest.json' && Buffer.isBuffer(body) && JSON.parse(body.toString()).status === 'done') {
        await input.delete(originalKey('gone'));
        await removeOutputs(output, 'gone');
      }
    };
    const racing = {
      ...output,
      put: async (key: string, body: Buffer | Readable, options?: PutOptions) => (await deleteIfFinal(key, body), output.put(key, body, options)),
      putUnsynced: async (key: string, body: Buffer, options?: PutOptions) => (await deleteIfFinal(key, body), output.putUnsynced(key, body, options)),
    };
    const processor = createProcessor({ input, output: racing, config });
    expect(await processor.process('gone')).toEqual({ id: 'gone', status: 'skipped', reason: 'deleted' });
    expect(await collect(output.list('gone/'))).toEqual([]);
    expect(await collect(input.list('dedup/'))).toEqual([]);
  });

  it('leaves no manifest when the original vanishes between its header and its bytes', async () => {
    const { input, output, config } = await setup();
    await input.put(originalKey('vanishing'), await solid(200, 100, '#123456'));
    // A store whose read finds the original deleted a moment before.
    const racing = {
      ...input,
      read: async (key: string) => (await input.delete(key), undefined),
      get: async (key: string) => (await input.delete(key), undefined),
    };
    const processor = createProcessor({ input: racing, output, config });
    expect(await processor.process('vanishing')).toEqual({ id: 'vanishing', status: 'skipped', reason: 'deleted' });
    expect(await collect(output.list('vanishing/'))).toEqual([]);
  });
});

describe('where every storage request is billed (AWS)', () => {
  it('writes no processing manifest and keeps no dedup record: an identical upload is rendered again, to the same bytes', async () => {
    const { input, output, config } = await setup();
    let renders = 0;
    let atRender: string | undefined = 'not looked';
    const watching: Gate = {
      run: async (work) => {
        renders++;
        atRender = (await readManifest(output, `aws-${renders}`))?.status;
        return work();
      },
    };
    const processor = createProcessor({ input, output, config, renderGate: watching, marksPending: false, marksProcessing: false, reusesTwins: false });
    const photo = await noisy(800, 600);
    for (const id of ['aws-1', 'aws-2']) {
      await input.put(originalKey(id), photo);
      expect((await processor.process(id)).status).toBe('done');
      // Until its end the image has no manifest: it reads as pending.
      expect(atRender).toBeUndefined();
    }
    expect(renders).toBe(2);
    expect(await collect(input.list('dedup/'))).toEqual([]);
    const [first, second] = await Promise.all(['aws-1', 'aws-2'].map((id) => readManifest(output, id)));
    expect(first!.fingerprint).toBeUndefined();
    expect((await getBuffer(output, second!.variants[1]!.key))!.equals((await getBuffer(output, first!.variants[1]!.key))!)).toBe(true);
    // A failure is final all the same.
    await input.put(originalKey('aws-broken'), Buffer.from('not an image at all'));
    expect(await processor.process('aws-broken')).toMatchObject({ status: 'failed' });
    expect(await readManifest(output, 'aws-broken')).toMatchObject({ status: 'failed' });
  });
});

describe('deduplication', () => {
  it('reuses the outputs of identical bytes with identical settings, as copies that outlive the first image', async () => {
    const { input, output, processor } = await setup({ WATERMARK_TEXT: 'DEDUP' });
    const photo = await noisy(1600, 1200);
    await input.put(originalKey('first'), photo, { metadata: toObjectMetadata({ filename: 'first.jpg' }) });
    await input.put(originalKey('second'), photo, { metadata: toObjectMetadata({ filename: 'second.jpg' }) });
    await input.put(originalKey('other-settings'), photo, { metadata: toObjectMetadata({ watermark: false }) });
    await processor.process('first');
    const second = await processor.process('second');
    await processor.process('other-settings');

    const [a, b, c] = await Promise.all(['first', 'second', 'other-settings'].map((id) => readManifest(output, id)));
    expect(second.status).toBe('done');
    expect(b).toMatchObject({ status: 'done', original: { filename: 'second.jpg', width: 1600, height: 1200 }, placeholder: a!.placeholder });
    for (const [i, variant] of b!.variants.entries()) {
      expect(variant.key.startsWith('second/')).toBe(true);
      expect((await getBuffer(output, variant.key))!.equals((await getBuffer(output, a!.variants[i]!.key))!)).toBe(true);
    }
    // Other settings (no watermark here) mean other outputs. (Compared by content: a watermark over
    // noise changes a JPEG's size by only tens of bytes, so equal sizes happen by chance.)
    expect(c!.fingerprint).not.toBe(a!.fingerprint);
    expect((await getBuffer(output, c!.variants[2]!.key))!.equals((await getBuffer(output, a!.variants[2]!.key))!)).toBe(false);

    // Deleting the first leaves the second whole.
    await input.delete(originalKey('first'));
    await removeOutputs(output, 'first');
    for (const variant of b!.variants) expect((await getBuffer(output, variant.key))?.length).toBe(variant.bytes);
  });

  it('reuses renders within one owner only, so no key learns what another uploaded', async () => {
    const { input, output, config } = await setup();
    let renders = 0;
    const counting = { run: <T>(work: () => Promise<T>) => (renders++, work()) };
    const processor = createProcessor({ input, output, config, renderGate: counting });
    const photo = await noisy(800, 600);
    for (const [id, owner] of [['alice-1', 'alice'], ['alice-2', 'alice'], ['bob-1', 'bob']] as const) {
      await input.put(originalKey(id), photo, { metadata: toObjectMetadata({ owner }) });
      expect((await processor.process(id)).status).toBe('done');
    }
    // Alice's second copy reused her first; Bob's was rendered afresh.
    expect(renders).toBe(2);
    const [a1, a2, b1] = await Promise.all(['alice-1', 'alice-2', 'bob-1'].map((id) => readManifest(output, id)));
    expect(a2!.fingerprint).toBe(a1!.fingerprint);
    expect(b1!.fingerprint).not.toBe(a1!.fingerprint);
  });
});
