import sharp from 'sharp';
import { thumbHashToAverageRGBA, thumbHashToRGBA } from 'thumbhash';
import { describe, expect, it } from 'vitest';
import { dominantColor, makePlaceholder } from '../../src/imaging/placeholder.js';

const pixels = (...runs: Array<[count: number, rgba: number[]]>) => Uint8Array.from(runs.flatMap(([count, rgba]) => Array.from({ length: count }, () => rgba).flat()));

describe('dominantColor', () => {
  it('is the mean of the fullest bin, not of the whole image', () => {
    // Two reds in one bin (0xc0..0xcf) outnumber the blue; the answer is their mean, not a purple.
    expect(dominantColor(pixels([30, [0xc2, 0x10, 0x10, 255]], [30, [0xc8, 0x14, 0x10, 255]], [40, [0x10, 0x10, 0xe0, 255]]))).toBe('#c51210');
  });

  it('ignores transparent pixels, whatever colour they store', () => {
    expect(dominantColor(pixels([90, [0, 0, 0, 0]], [10, [0x33, 0x99, 0x33, 128]]))).toBe('#339933');
    expect(dominantColor(pixels([4, [255, 255, 255, 0]]))).toBe('#000000');
  });
});

describe('makePlaceholder', () => {
  it('summarises a two-colour picture: its shape, its average and its main colour', async () => {
    // Left two thirds orange, right third navy, 300x150.
    const image = await sharp({ create: { width: 300, height: 150, channels: 3, background: '#f08020' } })
      .composite([{ input: { create: { width: 100, height: 150, channels: 3, background: '#102060' } }, left: 200, top: 0 }])
      .png()
      .toBuffer();
    const placeholder = await makePlaceholder(image);
    expect(placeholder.dominantColor).toBe('#f08020');
    const hash = Buffer.from(placeholder.thumbhash, 'base64');
    const decoded = thumbHashToRGBA(hash);
    expect(decoded.w / decoded.h).toBeCloseTo(2, 0);
    // The average lies between the two colours, two thirds of the way to orange.
    const average = thumbHashToAverageRGBA(hash);
    expect(average.r * 255).toBeGreaterThan(0x10 + (0xf0 - 0x10) * 0.55);
    expect(average.r * 255).toBeLessThan(0x10 + (0xf0 - 0x10) * 0.8);
    // The left edge decodes orange, the right edge navy.
    const at = (x: number) => Array.from(decoded.rgba.slice((Math.floor(decoded.h / 2) * decoded.w + x) * 4, (Math.floor(decoded.h / 2) * decoded.w + x) * 4 + 3));
    expect(at(0)[0]).toBeGreaterThan(at(decoded.w - 1)[0]! + 100);
    expect(at(decoded.w - 1)[2]).toBeGreaterThan(at(0)[2]! + 30);
  });
});
