import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { decodeFailure } from '../../src/imaging/decode-failure.js';
import { imagingSettings, renderImage } from '../../src/imaging/render-image.js';
import { sniffFormat } from '../../src/formats/sniff.js';
import { animatedGif, noisy } from '../helpers/images.js';
import { tiff } from '../helpers/tiff-writer.js';

/** Regressions the test images of sharp, thumbor, imgproxy and libvips found, each made here. */
const settings = (env: Record<string, string> = {}) => imagingSettings(loadConfig(env), false);
const failure = (work: Promise<unknown>) => work.then(() => undefined, (error: { status: number; code: string; message: string }) => ({ status: error.status, code: error.code, message: error.message }));

describe('the peers’ test images', () => {
  it('renders an animated GIF whose loop count libvips reads as 65536 (thumbor’s Rotating_earth) to WebP and GIF', async () => {
    const gif = Buffer.from(await sharp(await animatedGif(64, 64, 3), { animated: true }).gif({ loop: 65535 }).toBuffer());
    const loopField = gif.indexOf(Buffer.from('NETSCAPE2.0')) + 13;
    gif.writeUInt16LE(0xffff, loopField);
    expect((await sharp(gif, { animated: true }).metadata()).loop).toBe(65536);
    const { variants } = await renderImage(gif, settings({ OUTPUT_FORMATS: 'webp,gif', VARIANTS: 'small:48x48:inside' }));
    expect(variants.map((v) => v.format).sort()).toEqual(['gif', 'webp']);
    for (const variant of variants) expect(await sharp(variant.data, { animated: true }).metadata()).toMatchObject({ pages: 3, loop: 65535 });
  });

  it('never reports an error of the library’s own use as corrupt input', () => {
    const refusedOption = new Error('Expected integer between 0 and 65535 for loop but received 65536 of type number');
    expect(decodeFailure(refusedOption, 'gif')).toMatchObject({ status: 500, code: 'render_failed' });
    expect(decodeFailure(new Error('gifload_buffer: no frames in GIF'), 'gif')).toMatchObject({ status: 422, code: 'decode_failed' });
  });

  it('takes a picture whose first pixels are transparent and the rest black but opaque (sharp’s blackbug.png), and refuses a fully transparent one', async () => {
    const width = 400;
    const height = 400;
    const pixels = Buffer.alloc(width * height * 4);
    // Transparent rows far past the pixels looked at on the event loop, then opaque black.
    for (let i = width * 100 * 4 + 3; i < pixels.length; i += 4) pixels[i] = 255;
    const png = await sharp(pixels, { raw: { width, height, channels: 4 } }).png().toBuffer();
    await expect(renderImage(png, settings())).resolves.toBeDefined();
    const clear = await sharp(Buffer.alloc(width * height * 4), { raw: { width, height, channels: 4 } }).png().toBuffer();
    expect(await failure(renderImage(clear, settings()))).toMatchObject({ code: 'decode_failed', message: expect.stringContaining('nothing visible') });
  });

  it('takes a GeoTIFF whose ASCII tag lacks its NUL (sharp’s bonne.geo.tif), as libtiff does', async () => {
    const base = tiff([[34737, 2, 0]]);
    const text = Buffer.from('WGS 84|', 'latin1');
    const file = Buffer.concat([base, text]);
    const ifd = file.readUInt32LE(4);
    for (let i = 0; i < file.readUInt16LE(ifd); i++) {
      const at = ifd + 2 + i * 12;
      if (file.readUInt16LE(at) === 34737) {
        file.writeUInt32LE(text.length, at + 4);
        file.writeUInt32LE(base.length, at + 8);
      }
    }
    await expect(sharp(file, { failOn: 'warning' }).toBuffer()).rejects.toThrow(/does not end in null byte/);
    const { variants } = await renderImage(file, settings({ VARIANTS: 'small:8x8:inside' }));
    expect(variants).toHaveLength(1);
  });

  it('says a PNG, JPEG or WebP cut short is cut short, not corrupt', async () => {
    const photo = sharp(await noisy(300, 300));
    for (const format of ['png', 'jpeg', 'webp'] as const) {
      const whole = await photo.clone().toFormat(format).toBuffer();
      const cut = whole.subarray(0, Math.floor(whole.length * 0.8));
      expect(await failure(renderImage(cut, settings())), format).toMatchObject({ code: 'decode_failed', message: expect.stringContaining('cut short') });
    }
  });

  it('recognises an SVG with an internal DTD subset, and one in UTF-16', () => {
    const subset = Buffer.from(
      `<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [\n  <!ENTITY Smile "<rect x='1' y='1' width='8' height='8'/>">\n  <!ENTITY Text "&#x3e; hello">\n]>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">&Smile;</svg>`,
    );
    expect(sniffFormat(subset)).toBe('svg');
    const long = Buffer.from(`<!DOCTYPE svg [${'<!ENTITY a "b">'.repeat(60)}]><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`);
    expect(sniffFormat(long.subarray(0, 512))).toBe('svg');
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>';
    expect(sniffFormat(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(svg, 'utf16le')]))).toBe('svg');
    const be = Buffer.from(svg, 'utf16le').swap16();
    expect(sniffFormat(Buffer.concat([Buffer.from([0xfe, 0xff]), be]))).toBe('svg');
    expect(sniffFormat(Buffer.from('<!DOCTYPE html [<!ENTITY a "b">]><html><svg></svg></html>'))).toBeUndefined();
  });
});
