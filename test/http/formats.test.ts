import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseFormat } from '../../src/http/download-links.js';
import { noisy } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let dataDir: string;
let image: Record<string, any>;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'imgproc-formats-'));
  server = await startTestServer(dataDir, { OUTPUT_FORMATS: 'avif,webp,jpeg', VARIANTS: 'thumbnail:150x150:cover,medium:800x800:inside,icon:32x32:cover:png' });
  image = await server.settled(await server.upload(await noisy(640, 480)));
});
afterAll(async () => {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
});

const formatOf = async (response: Response) => (await sharp(Buffer.from(await response.arrayBuffer())).metadata()).format;

describe('several formats per variant (OUTPUT_FORMATS)', () => {
  it('renders every variant in each format, and a variant with its own format only in that', () => {
    expect(image.status).toBe('done');
    expect(image.variants.map((v: { name: string; format: string }) => `${v.name}.${v.format}`).sort()).toEqual(
      ['icon.png', 'medium.avif', 'medium.jpeg', 'medium.webp', 'thumbnail.avif', 'thumbnail.jpeg', 'thumbnail.webp'].sort(),
    );
  });

  it('chooses by Accept: AVIF, then WebP, then JPEG, and says it varies', async () => {
    const path = `/v1/images/${image.id}/variants/medium`;
    const avif = await server.api(path, { headers: { accept: 'image/avif,image/webp,image/*,*/*;q=0.8' } });
    expect(avif.headers.get('content-type')).toBe('image/avif');
    expect(avif.headers.get('vary')).toBe('Accept');
    expect(await formatOf(avif)).toBe('heif');
    const webp = await server.api(path, { headers: { accept: 'image/webp,*/*' } });
    expect(webp.headers.get('content-type')).toBe('image/webp');
    expect(await formatOf(webp)).toBe('webp');
    const plain = await server.api(path, { headers: { accept: '*/*' } });
    expect(plain.headers.get('content-type')).toBe('image/jpeg');
    expect(await formatOf(plain)).toBe('jpeg');
  });

  it('serves one format on ?format=, and each signed link its own format', async () => {
    const explicit = await server.api(`/v1/images/${image.id}/variants/thumbnail?format=webp`, { headers: { accept: 'image/avif' } });
    expect(explicit.headers.get('content-type')).toBe('image/webp');
    expect(explicit.headers.get('vary')).toBeNull();
    await explicit.arrayBuffer();
    expect((await server.api(`/v1/images/${image.id}/variants/icon?format=webp`)).status).toBe(404);
    for (const variant of image.variants as { format: string; url: string }[]) {
      const response = await fetch(variant.url, { headers: { accept: 'image/avif,image/webp' } });
      expect(response.headers.get('content-type')).toBe(`image/${variant.format}`);
      await response.arrayBuffer();
    }
  });
});

describe('chooseFormat', () => {
  const entries = [{ format: 'jpeg' as const }, { format: 'webp' as const }, { format: 'avif' as const }];
  it.each([
    ['image/avif,image/webp,*/*', 'avif'],
    ['image/webp,*/*', 'webp'],
    ['*/*', 'jpeg'],
    [undefined, 'jpeg'],
  ])('Accept %s gets %s', (accept, expected) => {
    expect(chooseFormat(entries, accept)?.format).toBe(expected);
  });
});
