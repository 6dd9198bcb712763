import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/config.js';
import { FORMATS, OUTPUT_FORMATS, outputOf, uploadTypes } from '../../src/formats/formats.js';
import { encode } from '../../src/imaging/pipeline/encode.js';
import { sniffFormat } from '../../src/formats/sniff.js';
import { variantKey } from '../../src/processing/keys.js';
import { solid } from '../helpers/images.js';

describe('sniffFormat', () => {
  it('recognises every supported format by its bytes', async () => {
    const base = sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } });
    expect(sniffFormat(await base.clone().jpeg().toBuffer())).toBe('jpeg');
    expect(sniffFormat(await base.clone().png().toBuffer())).toBe('png');
    expect(sniffFormat(await base.clone().webp().toBuffer())).toBe('webp');
    expect(sniffFormat(await base.clone().gif().toBuffer())).toBe('gif');
    expect(sniffFormat(await base.clone().avif().toBuffer())).toBe('avif');
    expect(sniffFormat(await base.clone().tiff().toBuffer())).toBe('tiff');
    expect(sniffFormat(Buffer.from('<?xml version="1.0"?>\n<!-- hi --><svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe('svg');
  });

  it('refuses what only pretends by name or looks like something else', async () => {
    expect(sniffFormat(Buffer.from('hello, world'))).toBeUndefined();
    expect(sniffFormat(Buffer.from('<html><body>not an image</body></html>'))).toBeUndefined();
    expect(sniffFormat(Buffer.from('BM\x36\x00\x00\x00', 'latin1'))).toBeUndefined();
    expect(sniffFormat(Buffer.alloc(0))).toBeUndefined();
    expect(sniffFormat((await solid(8, 8, 'red')).subarray(1))).toBeUndefined();
  });
});

describe('the format registry', () => {
  it('encodes every output format with its own options, and the bytes sniff back as that format', async () => {
    const source = sharp({ create: { width: 16, height: 16, channels: 4, background: { r: 200, g: 40, b: 40, alpha: 0.5 } } });
    for (const format of OUTPUT_FORMATS) {
      const { data, info } = await encode(source.clone(), format, 70).toBuffer({ resolveWithObject: true });
      expect(sniffFormat(data), format).toBe(format);
      expect(info.format === 'heif' ? 'avif' : info.format, format).toBe(format);
      // Alpha survives exactly where the registry says the format keeps it.
      expect((await sharp(data).metadata()).hasAlpha, format).toBe(outputOf(format).alpha);
    }
  });

  it('is where the settings, the upload types and the download names come from', () => {
    for (const format of OUTPUT_FORMATS) expect(loadConfig({ OUTPUT_FORMAT: format }).outputFormat).toBe(format);
    expect(uploadTypes({ allowSvg: false })).toEqual(expect.arrayContaining(['image/jpeg', 'image/heic', 'image/bmp']));
    expect(uploadTypes({ allowSvg: false })).not.toContain(FORMATS.svg.mime);
    expect(uploadTypes({ allowSvg: true })).toContain(FORMATS.svg.mime);
    expect(variantKey('abc', 'thumbnail', 'jpeg')).toBe('abc/thumbnail.jpg');
  });
});
