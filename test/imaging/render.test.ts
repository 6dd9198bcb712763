import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { VariantSpec } from '../../src/config/variants.js';
import { probeImage } from '../../src/imaging/probe.js';
import type { RenderSettings } from '../../src/imaging/pipeline/render.js';
import { renderOne } from '../helpers/render.js';
import { animatedGif, cmykRed, halfTransparent, halves, noisy, p3Red, pixel, solid, withEverything } from '../helpers/images.js';

const options: RenderSettings = { outputFormat: 'jpeg', quality: 90, maxInputPixels: 100_000_000, maxAnimationFrames: 100 };
const inside = (width: number, height = width): VariantSpec => ({ name: 'v', width, height, fit: 'inside' });
const cover = (width: number, height = width): VariantSpec => ({ name: 'v', width, height, fit: 'cover' });

async function render(source: Buffer, spec: VariantSpec, extra: Partial<RenderSettings> = {}) {
  const info = await probeImage(source, { maxInputPixels: options.maxInputPixels, allowSvg: false });
  return renderOne(source, info, spec, { ...options, ...extra });
}

const near = (actual: number[], expected: number[], tolerance = 12) =>
  actual.every((value, i) => Math.abs(value - expected[i]!) <= tolerance);

describe('renderVariant', () => {
  it('resizes within the box keeping the aspect ratio, and crops for cover', async () => {
    const source = await noisy(1200, 800);
    expect(await render(source, inside(600))).toMatchObject({ width: 600, height: 400, format: 'jpeg' });
    expect(await render(source, cover(150))).toMatchObject({ width: 150, height: 150 });
  });

  it('never enlarges a smaller original', async () => {
    const source = await solid(100, 80, '#123456');
    expect(await render(source, inside(800))).toMatchObject({ width: 100, height: 80 });
    expect(await render(source, cover(150))).toMatchObject({ width: 100, height: 80 });
  });

  it.each([
    [1, 'landscape', [255, 0, 0], [0, 0, 255]],
    [3, 'landscape, turned', [0, 0, 255], [255, 0, 0]],
    [6, 'portrait', [255, 0, 0], [0, 0, 255]],
    [8, 'portrait', [0, 0, 255], [255, 0, 0]],
  ] as const)('applies EXIF orientation %i', async (orientation, shape, first, last) => {
    const out = await render(await halves(orientation), inside(1000));
    const portrait = shape === 'portrait';
    expect([out.width, out.height]).toEqual(portrait ? [200, 300] : [300, 200]);
    // Red was stored on the left: after rotation it is at the start (top or left) or the end.
    const [x1, y1, x2, y2] = portrait ? [100, 20, 100, 280] : [20, 100, 280, 100];
    expect(near(await pixel(out.data, x1, y1), [...first], 40)).toBe(true);
    expect(near(await pixel(out.data, x2, y2), [...last], 40)).toBe(true);
    expect((await sharp(out.data).metadata()).orientation).toBeUndefined();
  });

  it('strips EXIF, GPS, XMP and ICC metadata', async () => {
    const out = await render(await withEverything(), inside(200));
    const meta = await sharp(out.data).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    expect(out.data.includes(Buffer.from('TestCam'))).toBe(false);
  });

  it('converts a wide-gamut (Display P3) image to sRGB through its profile', async () => {
    const out = await render(await p3Red(), inside(32));
    expect(near(await pixel(out.data, 16, 16), [255, 0, 0])).toBe(true);
  });

  it('converts CMYK to sRGB', async () => {
    const out = await render(await cmykRed(), inside(32));
    expect((await sharp(out.data).metadata()).space).toBe('srgb');
    const [r, g, b] = await pixel(out.data, 16, 16);
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(80);
    expect(b).toBeLessThan(80);
  });

  it('flattens alpha onto white for JPEG and keeps it for PNG', async () => {
    const source = await halfTransparent();
    const jpeg = await render(source, inside(200));
    expect(near(await pixel(jpeg.data, 20, 50), [255, 255, 255])).toBe(true);
    expect(near(await pixel(jpeg.data, 180, 50), [0, 255, 0])).toBe(true);

    const png = await render(source, inside(200), { outputFormat: 'auto' });
    expect(png.format).toBe('png');
    const { data, info } = await sharp(png.data).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    expect(data[(50 * 200 + 20) * 4 + 3]).toBe(0);
    expect(data[(50 * 200 + 180) * 4 + 3]).toBe(255);
  });

  it('keeps an animation when the output format can hold one, and takes the first frame otherwise', async () => {
    const gif = await animatedGif(120, 80, 4);
    const webp = await render(gif, inside(60), { outputFormat: 'webp' });
    expect(webp).toMatchObject({ format: 'webp', width: 60, height: 40, pages: 4 });
    expect((await sharp(webp.data, { animated: true }).metadata()).pages).toBe(4);
    expect(near(await pixel(webp.data, 30, 20, 1), [0, 255, 0])).toBe(true);

    const jpeg = await render(gif, inside(60));
    expect(jpeg).toMatchObject({ format: 'jpeg', width: 60, height: 40, pages: 1 });
  });

  it('caps the frames of a long animation at MAX_ANIMATION_FRAMES', async () => {
    const out = await render(await animatedGif(40, 40, 6), inside(40), { outputFormat: 'gif', maxAnimationFrames: 3 });
    expect(out.pages).toBe(3);
    expect((await sharp(out.data, { animated: true }).metadata()).pages).toBe(3);
  });

  it('writes 8-bit sRGB from a 16-bit PNG', async () => {
    const source = await sharp({ create: { width: 50, height: 50, channels: 3, background: '#ff8000' } }).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(source).metadata()).depth).toBe('ushort');
    const out = await render(source, inside(50), { outputFormat: 'png' });
    expect((await sharp(out.data).metadata()).depth).toBe('uchar');
    expect(near(await pixel(out.data, 10, 10), [255, 128, 0])).toBe(true);
  });

  it('fails to decode a truncated JPEG', async () => {
    const whole = await noisy(400, 300);
    const truncated = whole.subarray(0, Math.floor(whole.length / 2));
    await expect(render(truncated, inside(100))).rejects.toThrow();
  });

  it('renders a polyglot (an image followed by other bytes) without the extra bytes', async () => {
    const trailer = Buffer.from('<script>alert("polyglot")</script>');
    const out = await render(Buffer.concat([await solid(100, 100, '#00ff00'), trailer]), inside(50));
    expect(out.width).toBe(50);
    expect(out.data.includes(trailer)).toBe(false);
  });
});
