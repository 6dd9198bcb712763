import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { VariantSpec } from '../../src/config/variants.js';
import { probeImage } from '../../src/imaging/probe.js';
import { resizeFit } from '../../src/imaging/pipeline/resize.js';
import { renderVariants, type RenderSettings } from '../../src/imaging/pipeline/render.js';
import { decodeFailure } from '../../src/imaging/decode-failure.js';
import { imagingSettings, renderImage } from '../../src/imaging/render-image.js';
import { loadConfig } from '../../src/config/config.js';
import { animatedGif, cmykRed, halfTransparent, halves, noisy, pixel } from '../helpers/images.js';

const specs: VariantSpec[] = [
  { name: 'thumbnail', width: 150, height: 150, fit: 'cover' },
  { name: 'medium', width: 800, height: 800, fit: 'inside' },
  { name: 'large', width: 1600, height: 1600, fit: 'inside' },
];
const options: RenderSettings = { outputFormat: 'jpeg', quality: 90, maxInputPixels: 1e8, maxAnimationFrames: 100 };

/** Mean absolute difference per channel between two images of one size. */
async function difference(a: Buffer, b: Buffer): Promise<number> {
  const [x, y] = await Promise.all([a, b].map((image) => sharp(image).removeAlpha().raw().toBuffer()));
  let sum = 0;
  for (let i = 0; i < x!.length; i++) sum += Math.abs(x![i]! - y![i]!);
  return sum / x!.length;
}

/** What one sharp pipeline from the original gives for a variant, the reference for decoding once and shrinking on load. */
const oneShot = (source: Buffer, spec: VariantSpec) =>
  sharp(source)
    .autoOrient()
    .resize(spec.width, spec.height, { ...resizeFit(spec.fit), withoutEnlargement: true })
    .toColourspace('srgb')
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 90 })
    .toBuffer({ resolveWithObject: true });

async function both(source: Buffer) {
  const info = await probeImage(source, { maxInputPixels: 1e8, allowSvg: false });
  const all = await renderVariants(source, info, specs, options);
  const one = await Promise.all(specs.map(async (spec) => {
    const { data, info: out } = await oneShot(source, spec);
    return { data, width: out.width, height: out.height, format: 'jpeg' };
  }));
  return { all, one };
}

describe('the render pipeline (decode once, derive every variant)', () => {
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

  it('renders once the variants that would come out the same, and names each', async () => {
    const watermark = { text: 'MARK', scale: 0.2, position: 'southeast' as const, opacity: 1, minWidth: 300 };
    const small = await noisy(640, 480);
    const info = await probeImage(small, { maxInputPixels: 1e8, allowSvg: false });
    // Medium and large are both the photo's own size, marked alike: one render, two names.
    const [thumbnail, medium, large] = await renderVariants(small, info, specs, { ...options, watermark });
    expect([medium!.name, large!.name]).toEqual(['medium', 'large']);
    expect([large!.width, large!.height]).toEqual([640, 480]);
    expect(large!.data).toBe(medium!.data);
    expect(thumbnail!.data).not.toBe(medium!.data);
    // Anything that tells them apart renders them apart: a quality, a mark left off.
    for (const change of [{ quality: 60 }, { watermark: false }]) {
      const [, apart, other] = await renderVariants(small, info, [specs[0]!, specs[1]!, { ...specs[2]!, ...change }], { ...options, watermark });
      expect(other!.data).not.toBe(apart!.data);
      expect(other!.data.equals(apart!.data)).toBe(false);
    }
  });

  it('renders a lone variant (an on-demand size) in one pipeline to what it is among others, and still says a file cut short is', async () => {
    const photo = await noisy(2400, 1600);
    const info = await probeImage(photo, { maxInputPixels: 1e8, allowSvg: false });
    for (const spec of [specs[1]!, specs[0]!, { name: 'wide', width: 1000, height: 400, fit: 'cover' as const }]) {
      const [alone] = await renderVariants(photo, info, [spec], options);
      const [among] = await renderVariants(photo, info, [spec, { ...specs[2]!, name: 'other' }], options);
      expect([alone!.width, alone!.height]).toEqual([among!.width, among!.height]);
      expect(await difference(alone!.data, among!.data)).toBeLessThan(6);
    }
    const cut = photo.subarray(0, Math.floor(photo.length * 0.8));
    const failed = await renderImage(cut, imagingSettings(loadConfig({ VARIANTS: 'only:320x320:inside' }), false)).catch((error: unknown) => decodeFailure(error));
    expect(failed).toMatchObject({ code: 'decode_failed', message: expect.stringContaining('cut short') });
  });

  it('stamps the watermark in its corner of the variants wide enough for it', async () => {
    const black = await sharp({ create: { width: 2000, height: 1500, channels: 3, background: '#000000' } }).jpeg().toBuffer();
    const watermark = { text: 'MARK', scale: 0.2, position: 'southeast' as const, opacity: 1, minWidth: 300 };
    const all = await renderVariants(black, await probeImage(black, { maxInputPixels: 1e8, allowSvg: false }), specs, { ...options, watermark });
    // White glyphs near the bottom-right corner, nothing at the top-left.
    const { data, info } = await sharp(all[2]!.data).raw().toBuffer({ resolveWithObject: true });
    const corner = [];
    for (let y = info.height - 80; y < info.height; y++) for (let x = info.width - 300; x < info.width; x++) corner.push(data[(y * info.width + x) * 3]!);
    expect(Math.max(...corner)).toBeGreaterThan(200);
    expect(await pixel(all[2]!.data, 10, 10)).toEqual([0, 0, 0]);
    // The thumbnail is under WATERMARK_MIN_WIDTH: unmarked.
    expect(Math.max(...(await sharp(all[0]!.data).raw().toBuffer()))).toBeLessThan(30);
  });

  it('keeps animations when the format can hold them', async () => {
    const gif = await animatedGif(400, 300, 3);
    const info = await probeImage(gif, { maxInputPixels: 1e8, allowSvg: false });
    const out = await renderVariants(gif, info, specs, { ...options, outputFormat: 'webp' });
    expect(out.map((v) => v.pages)).toEqual([3, 3, 3]);
  });
});

describe('smart crop', () => {
  it('keeps the striking part of the picture with attention, where cover keeps the centre', async () => {
    // A grey field with one saturated red patch near the right edge.
    const red = await sharp({ create: { width: 120, height: 120, channels: 3, background: '#e02020' } }).png().toBuffer();
    const source = await sharp({ create: { width: 900, height: 300, channels: 3, background: '#808080' } })
      .composite([{ input: red, left: 740, top: 90 }])
      .jpeg({ quality: 95 })
      .toBuffer();
    const info = await probeImage(source, { maxInputPixels: 1e8, allowSvg: false });
    const crop = (fit: VariantSpec['fit']) => renderVariants(source, info, [{ name: 't', width: 200, height: 200, fit }], options);
    const redness = async (image: Buffer) => {
      const { data } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
      let count = 0;
      for (let i = 0; i < data.length; i += 3) if (data[i]! > 180 && data[i + 1]! < 80) count++;
      return count;
    };
    const [centre] = await crop('cover');
    const [attention] = await crop('attention');
    const [entropy] = await crop('entropy');
    expect([centre!.width, centre!.height, attention!.width, attention!.height]).toEqual([200, 200, 200, 200]);
    expect(await redness(centre!.data)).toBe(0);
    expect(await redness(attention!.data)).toBeGreaterThan(5000);
    expect(await redness(entropy!.data)).toBeGreaterThan(5000);
  });
});

describe('one variant in formats that do and do not animate', () => {
  it('keeps every frame in WebP and takes the first, flattened, for JPEG, from one resize', async () => {
    const gif = await animatedGif(400, 300, 3);
    const info = await probeImage(gif, { maxInputPixels: 1e8, allowSvg: false });
    const out = await renderVariants(gif, info, [{ name: 'm', width: 200, height: 200, fit: 'inside' }], { ...options, outputFormat: 'jpeg', outputFormats: ['webp', 'jpeg'] });
    expect(out.map((v) => [v.format, v.width, v.height, v.pages])).toEqual([
      ['webp', 200, 150, 3],
      ['jpeg', 200, 150, 1],
    ]);
    expect((await sharp(out[0]!.data, { animated: true }).metadata()).pages).toBe(3);
    // The JPEG is the first frame, not the frames stacked into one tall picture.
    const [r, g, b] = await pixel(out[1]!.data, 100, 140);
    expect(r).toBeGreaterThan(240);
    expect(g + b).toBeLessThan(20);
  });
});
