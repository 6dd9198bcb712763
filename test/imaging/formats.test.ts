import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { sniffFormat } from '../../src/imaging/formats.js';
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
