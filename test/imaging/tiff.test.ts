import { describe, expect, it } from 'vitest';
import { probeImage } from '../../src/imaging/probe.js';
import { tiff } from '../helpers/tiff-writer.js';

const limits = { maxInputPixels: 1e8, allowSvg: false };

describe('TIFF kinds', () => {
  it('takes a plain TIFF', async () => {
    expect(await probeImage(tiff(), limits)).toMatchObject({ format: 'tiff', width: 4, height: 2 });
  });

  it('refuses old-style JPEG compression, which libvips would turn into a white picture, with 415 saying why', async () => {
    await expect(probeImage(tiff([[259, 3, 6]]), limits)).rejects.toMatchObject({ status: 415, code: 'unsupported_format', message: expect.stringContaining('old-style JPEG') });
    // Tiled or in strips, the same.
    await expect(probeImage(tiff([[259, 3, 6], [322, 3, 16], [323, 3, 16]]), limits)).rejects.toMatchObject({ status: 415 });
  });

  it('refuses camera raw files, whose first image is a preview or the sensor mosaic, with 415 saying why', async () => {
    const raws = {
      dng: tiff([[50706, 4, 0x01040000]]),
      'preview first (NEF, ARW)': tiff([[254, 4, 1]]),
      'sub-directories': tiff([[330, 4, 8]]),
      'colour filter array': tiff([[262, 3, 32803]]),
      'Kodak (KDC)': tiff([[33424, 4, 8]]),
      'Nikon compression': tiff([[259, 3, 34713]]),
      cr2: tiff([], 'CR\u0002\u0000'),
    };
    for (const [kind, file] of Object.entries(raws)) {
      await expect(probeImage(file, limits), kind).rejects.toMatchObject({ status: 415, code: 'unsupported_format', message: expect.stringContaining('Camera raw') });
    }
  });
});
