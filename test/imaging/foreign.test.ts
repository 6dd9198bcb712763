import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeForeign, foreignPixelBudget } from '../../src/imaging/foreign.js';
import type { RawPixels } from '../../src/imaging/decode-worker.js';
import { sniffFormat } from '../../src/formats/sniff.js';
import { probeImage } from '../../src/imaging/probe.js';

const fixture = (name: string) => readFile(join(import.meta.dirname, '../fixtures', name));
const limits = { maxInputPixels: 1e8, allowSvg: false };

const unbounded = { maxPixels: Number.POSITIVE_INFINITY, timeoutMs: 60_000 };
const asPng = ({ data, width, height, channels }: RawPixels) => sharp(data, { raw: { width, height, channels } }).png().toBuffer();

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

  it('decodes an HEVC HEIC straight to the RGB pixels it holds', async () => {
    const pixels = await decodeForeign(await fixture('scene.heic'), 'heif', unbounded);
    expect(pixels).toMatchObject({ width: 320, height: 240, channels: 3 });
    expect(pixels.data.length).toBe(320 * 240 * 3);
    expect(await difference(await asPng(pixels), await fixture('scene.png'), 320, 240)).toBeLessThan(6);
  });

  it('decodes a BMP to the picture it holds, rows the right way up', async () => {
    const pixels = await decodeForeign(await fixture('scene.bmp'), 'bmp', unbounded);
    expect(pixels).toMatchObject({ width: 160, height: 120, channels: 3 });
    expect(await difference(await asPng(pixels), await fixture('scene.png'), 160, 120)).toBeLessThan(6);
  });

  it('refuses a HEIC over the pixel budget by the decoder\'s own reading, ends one past its deadline, and names a truncated one', async () => {
    const heic = await fixture('scene.heic');
    await expect(decodeForeign(heic, 'heif', { ...unbounded, maxPixels: 320 * 240 - 1 })).rejects.toMatchObject({ status: 422, code: 'too_many_pixels' });
    // Starting the worker alone takes longer than a millisecond: the deadline ends it mid-way.
    await expect(decodeForeign(heic, 'heif', { ...unbounded, timeoutMs: 1 })).rejects.toMatchObject({ status: 422, code: 'timeout' });
    await expect(decodeForeign(heic.subarray(0, heic.length / 2), 'heif', unbounded)).rejects.toMatchObject({ status: 422, code: 'decode_failed' });
    // The worker that failed is gone; the next image decodes as usual.
    expect((await decodeForeign(heic, 'heif', unbounded)).width).toBe(320);
  });

  it('budgets HEIC and BMP pixels by the memory a Lambda function has, and not without a limit', () => {
    expect(foreignPixelBudget(undefined)).toBe(Number.POSITIVE_INFINITY);
    // 512 MB: a 24 MP phone photo fits, a 48 MP one does not.
    expect(foreignPixelBudget(512)).toBeGreaterThan(5712 * 4284);
    expect(foreignPixelBudget(512)).toBeLessThan(8064 * 6048);
    expect(foreignPixelBudget(3008)).toBeGreaterThan(8064 * 6048);
  });
});
