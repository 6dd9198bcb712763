import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { VariantSpec } from '../../src/config/variants.js';
import { probeImage } from '../../src/imaging/probe.js';
import { renderAll } from '../../src/imaging/render-all.js';
import { renderVariant, type RenderOptions } from '../../src/imaging/render.js';
import { animatedGif, cmykRed, halfTransparent, halves, noisy, pixel } from '../helpers/images.js';

const specs: VariantSpec[] = [
  { name: 'thumbnail', width: 150, height: 150, fit: 'cover' },
  { name: 'medium', width: 800, height: 800, fit: 'inside' },
  { name: 'large', width: 1600, height: 1600, fit: 'inside' },
];
const options: RenderOptions = { outputFormat: 'jpeg', quality: 90, maxInputPixels: 1e8, maxAnimationFrames: 100 };

/** Mean absolute difference per channel between two images of one size. */
async function difference(a: Buffer, b: Buffer): Promise<number> {
  const [x, y] = await Promise.all([a, b].map((image) => sharp(image).removeAlpha().raw().toBuffer()));
  let sum = 0;
  for (let i = 0; i < x!.length; i++) sum += Math.abs(x![i]! - y![i]!);
  return sum / x!.length;
}

async function both(source: Buffer, extra: Partial<RenderOptions> = {}) {
  const info = await probeImage(source, { maxInputPixels: 1e8, allowSvg: false });
  const all = await renderAll(source, info, specs, { ...options, ...extra });
  const one = await Promise.all(specs.map((spec) => renderVariant(source, info, spec, { ...options, ...extra })));
  return { all, one };
}

describe('renderAll (decode once, derive every variant)', () => {
  it.each([
    ['a photo', () => noisy(2400, 1600)],
    ['a rotated photo (EXIF 6)', () => halves(6)],
    ['a PNG with alpha', () => halfTransparent()],
    ['a CMYK JPEG', () => cmykRed()],
  ])('matches one pipeline per variant for %s: same sizes, same pixels within rounding', async (_name, make) => {
    const { all, one } = await both(await make());
    for (const [i, variant] of all.entries()) {
      expect([variant.width, variant.height, variant.format]).toEqual([one[i]!.width, one[i]!.height, one[i]!.format]);
      expect(await difference(variant.data, one[i]!.data)).toBeLessThan(6);
    }
  });

  it('stamps the watermark where the one-pipeline render does', async () => {
    const black = await sharp({ create: { width: 2000, height: 1500, channels: 3, background: '#000000' } }).jpeg().toBuffer();
    const watermark = { text: 'MARK', position: 'southeast' as const, opacity: 1, minWidth: 300 };
    const { all, one } = await both(black, { watermark });
    expect(await difference(all[2]!.data, one[2]!.data)).toBeLessThan(3);
    // White glyphs near the bottom-right corner, nothing at the top-left.
    const { data, info } = await sharp(all[2]!.data).raw().toBuffer({ resolveWithObject: true });
    const corner = [];
    for (let y = info.height - 80; y < info.height; y++) for (let x = info.width - 300; x < info.width; x++) corner.push(data[(y * info.width + x) * 3]!);
    expect(Math.max(...corner)).toBeGreaterThan(200);
    expect(await pixel(all[2]!.data, 10, 10)).toEqual([0, 0, 0]);
    // The thumbnail is under WATERMARK_MIN_WIDTH: unmarked.
    expect(Math.max(...(await sharp(all[0]!.data).raw().toBuffer()))).toBeLessThan(30);
  });

  it('keeps animations variant by variant when the format can hold them', async () => {
    const gif = await animatedGif(400, 300, 3);
    const info = await probeImage(gif, { maxInputPixels: 1e8, allowSvg: false });
    const out = await renderAll(gif, info, specs, { ...options, outputFormat: 'webp' });
    expect(out.map((v) => v.pages)).toEqual([3, 3, 3]);
  });
});
