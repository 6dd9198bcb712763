import { describe, expect, it } from 'vitest';
import { probeImage } from '../../src/imaging/probe.js';
import { animatedGif, halves, pngHeaderOnly, solid } from '../helpers/images.js';

const limits = { maxInputPixels: 100_000_000, allowSvg: false };

describe('probeImage', () => {
  it('reads format and displayed size from the header, orientation applied', async () => {
    expect(await probeImage(await solid(640, 480, 'white'), limits)).toMatchObject({ format: 'jpeg', width: 640, height: 480, pages: 1 });
    // Stored 300x200 with orientation 6: shown as 200x300.
    expect(await probeImage(await halves(6), limits)).toMatchObject({ width: 200, height: 300 });
    expect(await probeImage(await animatedGif(40, 30, 3), limits)).toMatchObject({ format: 'gif', width: 40, height: 30, pages: 3 });
  });

  it('rejects a non-image with 415 unsupported_format', async () => {
    await expect(probeImage(Buffer.from('just text'), limits)).rejects.toMatchObject({ status: 415, code: 'unsupported_format' });
  });

  it('rejects SVG with 415 unless allowed', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    await expect(probeImage(svg, limits)).rejects.toMatchObject({ status: 415 });
    expect(await probeImage(svg, { ...limits, allowSvg: true })).toMatchObject({ format: 'svg', width: 10, height: 10 });
  });

  it('rejects a decompression bomb at the header with 422 too_many_pixels', async () => {
    await expect(probeImage(pngHeaderOnly(100_000, 100_000), limits)).rejects.toMatchObject({ status: 422, code: 'too_many_pixels' });
  });

  it('rejects a file whose magic bytes claim an image but whose header is garbage with 422', async () => {
    const fake = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('definitely not a jpeg header')]);
    await expect(probeImage(fake, limits)).rejects.toMatchObject({ status: 422, code: 'decode_failed' });
  });
});
