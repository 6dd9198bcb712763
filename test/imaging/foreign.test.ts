import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeForeign } from '../../src/imaging/foreign.js';
import { sniffFormat } from '../../src/imaging/formats.js';
import { probeImage } from '../../src/imaging/probe.js';

const fixture = (name: string) => readFile(join(import.meta.dirname, '../fixtures', name));
const limits = { maxInputPixels: 1e8, allowSvg: false };

/** Mean absolute difference per channel of two images, compared at one size. */
async function difference(a: Buffer, b: Buffer, width: number, height: number): Promise<number> {
  const [x, y] = await Promise.all([a, b].map((image) => sharp(image).resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer()));
  let sum = 0;
  for (let i = 0; i < x!.length; i++) sum += Math.abs(x![i]! - y![i]!);
  return sum / x!.length;
}

describe('HEIC and BMP input', () => {
  it('recognises both by their bytes and reads their size from the header', async () => {
    const heic = await fixture('scene.heic');
    const bmp = await fixture('scene.bmp');
    expect(sniffFormat(heic)).toBe('heif');
    expect(sniffFormat(bmp)).toBe('bmp');
    expect(await probeImage(heic, limits)).toMatchObject({ format: 'heif', width: 320, height: 240 });
    expect(await probeImage(bmp, limits)).toMatchObject({ format: 'bmp', width: 160, height: 120 });
    await expect(probeImage(bmp, { ...limits, maxInputPixels: 1000 })).rejects.toMatchObject({ status: 422, code: 'too_many_pixels' });
  });

  it('decodes an HEVC HEIC to the picture it holds', async () => {
    const png = await decodeForeign(await fixture('scene.heic'), 'heif');
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 320, height: 240 });
    expect(await difference(png, await fixture('scene.png'), 320, 240)).toBeLessThan(6);
  });

  it('decodes a BMP to the picture it holds, rows the right way up', async () => {
    const png = await decodeForeign(await fixture('scene.bmp'), 'bmp');
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 160, height: 120 });
    expect(await difference(png, await fixture('scene.png'), 160, 120)).toBeLessThan(6);
  });
});
