import { rmSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createRenders, type RenderSpec } from '../../src/lifecycle/renders.js';
import { originalKey } from '../../src/processing/keys.js';
import { toObjectMetadata } from '../../src/processing/original-metadata.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { noisy } from '../helpers/images.js';
import { useTempDirs } from '../helpers/temp.js';

const tempDirs = useTempDirs();

/** An input store that counts reads of whole originals: one per render made. */
function counting(store: ReturnType<typeof createFsStore>) {
  const counter = { reads: 0 };
  const read = store.read!.bind(store);
  const localPath = store.localPath.bind(store);
  // A render process reads the file at the path it is given: a path handed out is a read.
  return {
    counter,
    store: { ...store, read: (key: string) => (key.startsWith('originals/') && counter.reads++, read(key)), localPath: (key: string) => (counter.reads++, localPath(key)) } as ObjectStore,
  };
}

async function setUp(env: Record<string, string> = {}) {
  const dir = await tempDirs();
  const config = loadConfig({ DATA_DIR: dir, ...env });
  const { counter, store: input } = counting(createFsStore(dir, config.inputBucket));
  const output = createFsStore(dir, config.outputBucket);
  return { config, input, output, counter, renders: createRenders({ input, output, config }) };
}

const spec = (width: number, format: RenderSpec['format'] = 'jpeg'): RenderSpec => ({ width, height: 16384, fit: 'inside', format });

describe('on-demand renders that cannot be turned against the service', () => {
  it('renders one link once, however many ask for it at once', async () => {
    const { input, renders, counter } = await setUp();
    await input.put(originalKey('photo'), await noisy(1600, 1200));
    const answers = await Promise.all(Array.from({ length: 8 }, () => renders.stored('photo', spec(320))));
    expect(counter.reads).toBe(1);
    expect(new Set(answers.map((answer) => answer.info.etag)).size).toBe(1);
    expect((await sharp(answers[0]!.data!).metadata()).width).toBe(320);
    // Later requests read the stored render: no original read, no render.
    expect((await renders.stored('photo', spec(320))).data).toBeUndefined();
    expect(counter.reads).toBe(1);
  });

  it('answers 404 when the original goes between the look at it and the render reading its file', async () => {
    const dir = await tempDirs();
    const config = loadConfig({ DATA_DIR: dir });
    const files = createFsStore(dir, config.inputBucket);
    await files.put(originalKey('photo'), await noisy(800, 600));
    // The path is handed out, and the file deleted, before the render reads it.
    const input = { ...files, localPath: (key: string) => (rmSync(files.localPath(key)), files.localPath(key)) };
    const renders = createRenders({ input, output: createFsStore(dir, config.outputBucket), config });
    await expect(renders.stored('photo', spec(320))).rejects.toMatchObject({ status: 404 });
  });

  it('remembers a failure: asking again for a link that cannot render costs nothing', async () => {
    const { input, renders, counter } = await setUp();
    const whole = await noisy(800, 600);
    await input.put(originalKey('cut'), whole.subarray(0, whole.length / 2));
    await expect(renders.stored('cut', spec(200))).rejects.toMatchObject({ status: 422, code: 'decode_failed' });
    expect(counter.reads).toBe(1);
    for (let i = 0; i < 5; i++) await expect(renders.stored('cut', spec(200))).rejects.toMatchObject({ status: 422 });
    expect(counter.reads).toBe(1);
    // New bytes under the same id deserve a new try.
    await input.put(originalKey('cut'), whole);
    expect((await renders.stored('cut', spec(200))).info.size).toBeGreaterThan(0);
    expect(counter.reads).toBe(2);
  });

  it('reads the original only once a slot is held, and refuses past the queue at once, reading nothing', async () => {
    const { input, renders, counter } = await setUp({ ONDEMAND_CONCURRENCY: '1', ONDEMAND_QUEUE_DEPTH: '1', ONDEMAND_PER_OWNER: '10' });
    await input.put(originalKey('big'), await noisy(3000, 2000));
    const first = renders.stored('big', spec(1200, 'webp'));
    const second = renders.stored('big', spec(1100, 'webp'));
    // One rendering, one waiting without the original.
    while (renders.waiting < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(counter.reads).toBe(1);
    await expect(renders.stored('big', spec(1000, 'webp'))).rejects.toMatchObject({ status: 503, code: 'busy', headers: { 'retry-after': '5' } });
    expect(counter.reads).toBe(1);
    await Promise.all([first, second]);
    expect(counter.reads).toBe(2);
  });

  it('makes the sizes of one image that wait together from one decode, each stored as its own render', async () => {
    const { input, renders, counter } = await setUp({ ONDEMAND_CONCURRENCY: '1' });
    await input.put(originalKey('busy'), await noisy(3000, 2000));
    await input.put(originalKey('gallery'), await noisy(2400, 1600));
    // The one slot is taken; three sizes of another image wait for it together.
    const first = renders.stored('busy', spec(1200, 'webp'));
    while (counter.reads < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    const sizes = [320, 640, 960];
    const answers = await Promise.all(sizes.map((width) => renders.stored('gallery', spec(width, 'webp'))));
    await first;
    expect(counter.reads).toBe(2);
    for (const [i, answer] of answers.entries()) {
      expect((await sharp(answer.data!).metadata()).width).toBe(sizes[i]);
      expect(answer.info.key).toBe(`gallery/renders/w${sizes[i]}-h16384-inside.webp`);
    }
  });

  it('caps the renders one image may have stored, in number and in bytes', async () => {
    const { input, renders } = await setUp({ ONDEMAND_MAX_RENDERS_PER_IMAGE: '2' });
    await input.put(originalKey('photo'), await noisy(1600, 1200));
    await renders.stored('photo', spec(100));
    await renders.stored('photo', spec(200));
    await expect(renders.stored('photo', spec(300))).rejects.toMatchObject({ status: 422, code: 'too_many_renders' });
    // The sizes it has still answer.
    expect((await renders.stored('photo', spec(200))).info.key).toBe('photo/renders/w200-h16384-inside.jpg');

    const small = await setUp({ ONDEMAND_MAX_BYTES_PER_IMAGE: '1000' });
    await small.input.put(originalKey('photo'), await noisy(1600, 1200));
    await small.renders.stored('photo', spec(400));
    await expect(small.renders.stored('photo', spec(100))).rejects.toMatchObject({ status: 422, code: 'too_many_renders' });
  });

  it('gives one owner’s images at most ONDEMAND_RENDERS_PER_OWNER_PER_HOUR new renders, with Retry-After; stored ones still answer', async () => {
    const { input, renders } = await setUp({ ONDEMAND_RENDERS_PER_OWNER_PER_HOUR: '2' });
    const photo = await noisy(800, 600);
    await input.put(originalKey('a'), photo, { metadata: toObjectMetadata({ owner: 'owner-1' }) });
    await input.put(originalKey('b'), photo, { metadata: toObjectMetadata({ owner: 'owner-1' }) });
    await input.put(originalKey('c'), photo, { metadata: toObjectMetadata({ owner: 'owner-2' }) });
    await renders.stored('a', spec(100));
    await renders.stored('b', spec(100));
    await expect(renders.stored('b', spec(200))).rejects.toMatchObject({ status: 429, code: 'too_many_renders', headers: { 'retry-after': expect.stringMatching(/^\d+$/) } });
    expect((await renders.stored('a', spec(100))).info.size).toBeGreaterThan(0);
    // Another owner is not held back.
    expect((await renders.stored('c', spec(200))).data).toBeDefined();
  });

  it('refuses, when asked, a link minted before ONDEMAND_WIDTHS said otherwise', async () => {
    const { input, renders } = await setUp({ ONDEMAND_WIDTHS: '320' });
    await input.put(originalKey('photo'), await noisy(1600, 1200));
    await expect(renders.stored('photo', { width: 320, height: 200, fit: 'cover', format: 'jpeg' })).rejects.toMatchObject({ status: 422, code: 'size_not_allowed' });
    await expect(renders.stored('photo', spec(640))).rejects.toMatchObject({ status: 422, code: 'width_not_allowed' });
  });
});
