import { describe, expect, it } from 'vitest';
import { probeImage } from '../../src/imaging/probe.js';

const limits = { maxInputPixels: 1e8, allowSvg: false };

/**
 * A little-endian TIFF of a 4x2 grey picture in one uncompressed strip, with `extra` entries
 * ([tag, type, value]: type 3 SHORT, 4 LONG) added or replacing the baseline ones.
 */
function tiff(extra: [number, number, number][] = [], bytesAt8 = ''): Buffer {
  const pixels = Buffer.from([0, 60, 120, 180, 240, 200, 100, 20]);
  const baseline = new Map<number, [number, number]>([
    [256, [3, 4]], // ImageWidth
    [257, [3, 2]], // ImageLength
    [258, [3, 8]], // BitsPerSample
    [259, [3, 1]], // Compression: none
    [262, [3, 1]], // Photometric: black is zero
    [273, [4, 0]], // StripOffsets (filled in below)
    [277, [3, 1]], // SamplesPerPixel
    [278, [3, 2]], // RowsPerStrip
    [279, [4, pixels.length]], // StripByteCounts
  ]);
  for (const [tag, type, value] of extra) baseline.set(tag, [type, value]);
  const tags = [...baseline.entries()].sort(([a], [b]) => a - b);
  const ifdAt = 8 + bytesAt8.length;
  const pixelsAt = ifdAt + 2 + tags.length * 12 + 4;
  const file = Buffer.alloc(pixelsAt + pixels.length);
  file.write('II', 0, 'latin1');
  file.writeUInt16LE(42, 2);
  file.writeUInt32LE(ifdAt, 4);
  file.write(bytesAt8, 8, 'latin1');
  file.writeUInt16LE(tags.length, ifdAt);
  tags.forEach(([tag, [type, value]], i) => {
    const at = ifdAt + 2 + i * 12;
    file.writeUInt16LE(tag, at);
    file.writeUInt16LE(type, at + 2);
    file.writeUInt32LE(1, at + 4);
    if (type === 3) file.writeUInt16LE(tag === 273 ? pixelsAt : value, at + 8);
    else file.writeUInt32LE(tag === 273 ? pixelsAt : value, at + 8);
  });
  pixels.copy(file, pixelsAt);
  return file;
}

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
