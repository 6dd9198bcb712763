import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import sharp from 'sharp';
import { overPixelLimit } from '../../src/human-sizes.js';
import { describe, expect, it } from 'vitest';
import { decodeBmpPixels } from '../../src/imaging/bmp-decode.js';
import { decodeForeign } from '../../src/imaging/foreign.js';
import { probeImage } from '../../src/imaging/probe.js';
import { HEADER_SIZES, writeBmp, type BmpHeaderKind, type BmpSpec } from '../helpers/bmp-writer.js';

const limits = { maxPixels: 1e8, timeoutMs: 30_000 };
const CONVERT = '/usr/bin/convert';
const headers = Object.keys(HEADER_SIZES) as BmpHeaderKind[];

/** What the decoder should give for a spec: RGB (RGBA with an alpha mask), rows from the top. */
function expected(spec: BmpSpec): { channels: number; data: number[] } {
  const alpha = spec.compression === 'bitfields' && (spec.masks?.[3] ?? 0) !== 0;
  const quantise = (value: number, mask: number) => {
    const max = mask >>> Math.log2((mask & -mask) >>> 0);
    return Math.round((Math.round((value * max) / 255) * 255) / max);
  };
  const masks = spec.masks ?? (spec.bits === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0xff0000, 0xff00, 0xff, 0]);
  // Alpha that is zero everywhere is a writer's habit, not transparency: such pixels come out opaque.
  const allZero = spec.pixels.every((pixel) => typeof pixel === 'number' || quantise(pixel[3], masks[3] || 0xff) === 0);
  const data = spec.pixels.flatMap((pixel) => {
    if (typeof pixel === 'number') return spec.palette![pixel]!;
    const rgb = spec.bits === 24 ? pixel.slice(0, 3) : pixel.slice(0, 3).map((value, c) => quantise(value, masks[c]!));
    return alpha ? [...rgb, allZero ? 255 : quantise(pixel[3], masks[3]!)] : rgb;
  });
  return { channels: alpha ? 4 : 3, data };
}

const decoded = (file: Buffer) => {
  const image = decodeBmpPixels(file, 1e8);
  return { width: image.width, height: image.height, channels: image.channels, data: [...image.data!] };
};

/** A random BMP of any kind the decoder takes, with the pixels it holds. */
const anyBmp = fc
  .record({
    width: fc.integer({ min: 1, max: 24 }),
    height: fc.integer({ min: 1, max: 12 }),
    header: fc.constantFrom(...headers),
    kind: fc.constantFrom('1', '4', '8', 'rle8', 'rle4', '16', '24', '32', '16-565', '32-alpha'),
    topDown: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1e9 }),
  })
  .filter(({ header, kind, topDown }) => {
    // A core header knows no compression; run-length rows only run bottom-up.
    if (header === 'core' && ['rle8', 'rle4', '16-565', '32-alpha'].includes(kind)) return false;
    if (kind === '32-alpha' && (header === 'info' || header === 'v2')) return false;
    return !(topDown && kind.startsWith('rle'));
  })
  .map(({ width, height, header, kind, topDown, seed }): BmpSpec => {
    let state = seed;
    const random = (n: number) => ((state = (state * 1103515245 + 12345) % 2147483648), state % n);
    const bits = ({ '1': 1, '4': 4, '8': 8, rle8: 8, rle4: 4, '16': 16, '24': 24, '32': 32, '16-565': 16, '32-alpha': 32 } as const)[kind];
    const base = { width, height, header, bits, topDown };
    if (bits <= 8) {
      const colours = Math.min(1 << bits, 1 + random(1 << bits));
      const palette = Array.from({ length: colours }, () => [random(256), random(256), random(256)] as [number, number, number]);
      const pixels = Array.from({ length: width * height }, () => random(colours));
      return { ...base, palette, pixels, compression: kind === 'rle8' ? 'rle8' : kind === 'rle4' ? 'rle4' : 'rgb' };
    }
    const pixels = Array.from({ length: width * height }, () => [random(256), random(256), random(256), random(256)] as [number, number, number, number]);
    if (kind === '16-565') return { ...base, pixels, compression: 'bitfields', masks: [0xf800, 0x07e0, 0x001f, 0] };
    if (kind === '32-alpha') return { ...base, pixels, compression: 'bitfields', masks: [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000] };
    return { ...base, pixels };
  });

describe('BMP decoder', () => {
  it('decodes every header form, bit depth, palette, bit field and run-length kind to the pixels written', () => {
    fc.assert(
      fc.property(anyBmp, (spec) => {
        const want = expected(spec);
        expect(decoded(writeBmp(spec))).toEqual({ width: spec.width, height: spec.height, channels: want.channels, data: want.data });
      }),
      { numRuns: 400 },
    );
  });

  it('decodes 32-bit BMPs with an alpha mask with their alpha, and 16-bit RGB565 ones', () => {
    const pixels: [number, number, number, number][] = [[255, 0, 0, 255], [0, 255, 0, 128], [0, 0, 255, 0], [255, 255, 255, 64]];
    const rgba = decoded(writeBmp({ width: 2, height: 2, header: 'v5', bits: 32, compression: 'bitfields', masks: [0xff0000, 0xff00, 0xff, 0xff000000], pixels }));
    expect(rgba).toMatchObject({ channels: 4, data: pixels.flat() });
    const rgb565 = decoded(writeBmp({ width: 2, height: 2, header: 'info', bits: 16, compression: 'bitfields', masks: [0xf800, 0x07e0, 0x001f, 0], pixels }));
    expect(rgb565.data.slice(0, 6)).toEqual([255, 0, 0, 0, 255, 0]);
  });

  it('follows RLE8 delta escapes, leaving the skipped pixels at palette entry 0', () => {
    const palette: [number, number, number][] = [[0, 0, 0], [200, 10, 10]];
    const file = writeBmp({ width: 4, height: 2, header: 'info', bits: 8, compression: 'rle8', palette, pixels: Array(8).fill(1) });
    // Bottom row: one pixel, then move 2 right and 1 up, then one pixel; end of bitmap.
    const start = file.readUInt32LE(10);
    const codes = Buffer.from([1, 1, 0, 2, 2, 1, 1, 1, 0, 1]);
    const crafted = Buffer.concat([file.subarray(0, start), codes]);
    const image = decoded(crafted);
    const at = (x: number, y: number) => image.data.slice((y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
    expect(at(0, 1)).toEqual([200, 10, 10]);
    expect(at(3, 0)).toEqual([200, 10, 10]);
    expect(at(1, 1)).toEqual([0, 0, 0]);
    expect(at(0, 0)).toEqual([0, 0, 0]);
  });

  it('keeps hostile run-length codes inside the picture: runs past the edge, deltas past the end, no end code', () => {
    const palette: [number, number, number][] = [[0, 0, 0], [9, 9, 9]];
    const file = writeBmp({ width: 3, height: 3, header: 'info', bits: 8, compression: 'rle8', palette, pixels: Array(9).fill(1) });
    const start = file.readUInt32LE(10);
    // Runs of 255 into a 3-wide row, absolute runs past it, deltas to far away, and no end code.
    const codes = Buffer.from([255, 1, 0, 5, 1, 1, 1, 1, 1, 0, 0, 2, 255, 255, 255, 1, 0, 0, 0, 0, 0, 0, 200, 1]);
    const image = decoded(Buffer.concat([file.subarray(0, start), codes]));
    expect(image).toMatchObject({ width: 3, height: 3 });
    expect(image.data).toHaveLength(27);
  });

  it('refuses what it does not support with 415 and what is broken with 422, in words for the client', async () => {
    const spec: BmpSpec = { width: 4, height: 4, header: 'info', bits: 24, pixels: Array(16).fill([1, 2, 3, 255]) };
    const good = writeBmp(spec);
    const forty = Buffer.from(good);
    forty.writeUInt16LE(40, 28);
    await expect(probeImage(forty, { maxInputPixels: 1e8, allowSvg: false })).rejects.toMatchObject({ status: 415, code: 'unsupported_format', message: expect.stringContaining('40 bits per pixel') });
    const jpegInside = Buffer.from(good);
    jpegInside.writeUInt32LE(4, 30);
    await expect(probeImage(jpegInside, { maxInputPixels: 1e8, allowSvg: false })).rejects.toMatchObject({ status: 415 });
    await expect(decodeForeign(good.subarray(0, good.length - 10), 'bmp', limits)).rejects.toMatchObject({ status: 422, code: 'decode_failed', message: expect.stringContaining('cut short') });
    // The 12-byte core header read as the core header: 16-bit sizes, not a 40-byte layout's.
    const core = writeBmp({ ...spec, header: 'core' });
    expect(await probeImage(core, { maxInputPixels: 1e8, allowSvg: false })).toMatchObject({ format: 'bmp', width: 4, height: 4 });
  });

  it('checks the pixel limit against its own reading, before it allocates anything', async () => {
    // A 64-byte RLE8 file that says 10000x10000.
    const huge = writeBmp({ width: 1, height: 1, header: 'info', bits: 8, compression: 'rle8', palette: [[0, 0, 0]], pixels: [0] });
    huge.writeInt32LE(10_000, 18);
    huge.writeInt32LE(10_000, 22);
    await expect(probeImage(huge, { maxInputPixels: 50_000_000, allowSvg: false })).rejects.toMatchObject({ status: 422, code: 'too_many_pixels' });
    // In the same words as every other format's refusal, though the decoder writes them out itself.
    const words = overPixelLimit(10_000, 10_000, 50_000_000);
    await expect(decodeForeign(huge, 'bmp', { ...limits, maxPixels: 50_000_000 })).rejects.toMatchObject({ status: 422, code: 'too_many_pixels', message: words });
    await expect(decodeForeign(huge, 'bmp', { ...limits, maxPixels: 99_990_000 })).rejects.toMatchObject({ message: overPixelLimit(10_000, 10_000, 99_990_000) });
  });

  it('never throws anything but its own refusal, whatever the bytes (fuzzed)', () => {
    const base = writeBmp({ width: 5, height: 3, header: 'v5', bits: 8, compression: 'rle8', palette: [[1, 2, 3], [4, 5, 6]], pixels: Array(15).fill(1) });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }), fc.nat(base.length), (edits, cut) => {
        const file = Buffer.from(base.subarray(0, Math.max(2, cut)));
        for (const [at, value] of edits) if (at < file.length) file[at] = value;
        try {
          const image = decodeBmpPixels(file, 1e6);
          expect(image.data).toHaveLength(image.width * image.height * image.channels);
        } catch (error) {
          expect(error).toMatchObject({ status: expect.any(Number), code: expect.any(String), message: expect.any(String) });
          expect([415, 422]).toContain((error as { status: number }).status);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('draws what ImageMagick draws for the same files', async (context) => {
    // Debian's ImageMagick by its path: another `convert` may come first on PATH.
    if (!existsSync(CONVERT)) context.skip();
    const dir = await mkdtemp(join(tmpdir(), 'bmp-'));
    const source = join(dir, 'source.png');
    await sharp({ create: { width: 37, height: 23, channels: 4, background: { r: 200, g: 80, b: 20, alpha: 0.6 }, noise: { type: 'gaussian', mean: 120, sigma: 60 } } }).png().toFile(source);
    for (const form of ['BMP3:', 'BMP:', 'BMP2:']) {
      const kinds = [
        ['-type', 'TrueColor'],
        ['-type', 'Palette', '-colors', '16'],
        ['-type', 'TrueColorAlpha'],
        ['-type', 'Palette', '-colors', '200', '-compress', 'RLE'],
        ['-type', 'Palette', '-colors', '12', '-compress', 'RLE'],
        ['-define', 'bmp:subtype=RGB565'],
      ];
      // 16-bit with alpha only where the header can say so (ImageMagick leaves a plain info header's masks out).
      if (form === 'BMP:') kinds.push(['-define', 'bmp:subtype=ARGB4444']);
      for (const options of kinds) {
        const bmp = join(dir, `out-${form.slice(0, -1)}-${options.join('').replace(/\W/g, '')}.bmp`);
        execFileSync(CONVERT, [source, ...options, form + bmp]);
        const bytes = await import('node:fs/promises').then((fs) => fs.readFile(bmp));
        let ours;
        try {
          ours = await decodeForeign(bytes, 'bmp', limits);
        } catch (error) {
          // A kind we refuse must be refused in words, never half-decoded.
          expect(error).toMatchObject({ status: 415 });
          continue;
        }
        const png = join(dir, 'theirs.png');
        execFileSync(CONVERT, [bmp, '-alpha', ours.channels === 4 ? 'on' : 'off', png]);
        const theirs = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
        const mine = await sharp(ours.data, { raw: { width: ours.width, height: ours.height, channels: ours.channels } }).ensureAlpha().raw().toBuffer();
        expect([theirs.info.width, theirs.info.height]).toEqual([ours.width, ours.height]);
        let worst = 0;
        for (let i = 0; i < mine.length; i++) worst = Math.max(worst, Math.abs(mine[i]! - theirs.data[i]!));
        // 4 bits a channel: ImageMagick shifts them up (15 becomes 240), we scale them (15 becomes 255).
        expect(worst, `${form} ${options.join(' ')}`).toBeLessThanOrEqual(options.includes('bmp:subtype=ARGB4444') ? 17 : 1);
      }
    }
    await writeFile(join(dir, 'done'), '');
  });
});
