import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { readLogo } from '../../src/config/logo-file.js';
import type { PlacedMark } from '../../src/imaging/pipeline/mark.js';
import { probeImage } from '../../src/imaging/probe.js';
import { startLocalServer } from '../../src/runtime/local-server.js';
import { solid } from '../helpers/images.js';
import { renderOne } from '../helpers/render.js';
import { useTempDirs } from '../helpers/temp.js';

const tempDirs = useTempDirs();

/** A red logo file, 100x50, opaque inside an alpha channel. */
async function redLogo(format: 'png' | 'svg' = 'png'): Promise<string> {
  const path = join(await tempDirs(), `logo.${format}`);
  const bytes =
    format === 'svg'
      ? Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50"><rect width="100" height="50" fill="#ff0000"/></svg>')
      : await sharp({ create: { width: 100, height: 50, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } } }).png().toBuffer();
  await writeFile(path, bytes);
  return path;
}

/** A black 1000x600 picture through the pipeline with `mark`, and the box its red pixels fill. */
async function stamped(mark: PlacedMark) {
  const source = await solid(1000, 600, '#000000', 'png');
  const info = await probeImage(source, { maxInputPixels: 1e8, allowSvg: false });
  const out = await renderOne(source, info, { name: 'v', width: 1000, height: 600, fit: 'inside' }, { outputFormat: 'png', quality: 90, maxInputPixels: 1e8, maxAnimationFrames: 1, watermark: mark });
  const { data, info: raw } = await sharp(out.data).raw().toBuffer({ resolveWithObject: true });
  let [left, top, right, bottom, red, white] = [raw.width, raw.height, -1, -1, 0, 0];
  for (let y = 0; y < raw.height; y++) {
    for (let x = 0; x < raw.width; x++) {
      const at = (y * raw.width + x) * raw.channels;
      if (data[at]! > 200 && data[at + 1]! > 200) white = Math.max(white, y);
      if (data[at]! < 64 || data[at + 1]! > 30) continue;
      [left, top, right, bottom] = [Math.min(left, x), Math.min(top, y), Math.max(right, x), Math.max(bottom, y)];
      red = data[at]!;
    }
  }
  return { left, top, width: right - left + 1, height: bottom - top + 1, right, bottom, red, lowestWhite: white };
}

const margin = 24; // markMargin(1000): 0.6 of a 40 px type size

describe('a logo watermark (WATERMARK_IMAGE)', () => {
  it('is scaled to WATERMARK_SCALE of the width, placed in its corner off the edge, at WATERMARK_OPACITY', async () => {
    const image = readLogo(await redLogo());
    const box = await stamped({ text: '', image, scale: 0.2, position: 'southeast', opacity: 0.5, minWidth: 300 });
    expect(box.width).toBe(200);
    expect(box.height).toBe(100);
    expect(box.right).toBe(1000 - margin - 1);
    expect(box.bottom).toBe(600 - margin - 1);
    // Half of the red over black.
    expect(Math.abs(box.red - 128)).toBeLessThanOrEqual(2);

    const corner = await stamped({ text: '', image, scale: 0.1, position: 'northwest', opacity: 1, minWidth: 300 });
    expect([corner.left, corner.top, corner.width, corner.height]).toEqual([margin, margin, 100, 50]);
    expect(corner.red).toBeGreaterThan(250);
  });

  it('draws an SVG logo at the size it is shown', async () => {
    const box = await stamped({ text: '', image: readLogo(await redLogo('svg')), scale: 0.5, position: 'center', opacity: 1, minWidth: 300 });
    expect([box.width, box.height]).toEqual([500, 250]);
  });

  it('goes with the text mark: the logo on top, the text under it, in the same corner', async () => {
    const box = await stamped({ text: 'SAMPLE', image: readLogo(await redLogo()), scale: 0.2, position: 'southeast', opacity: 1, minWidth: 300 });
    expect(box.width).toBe(200);
    expect(box.bottom).toBeLessThan(600 - 60);
    // White glyphs below the logo.
    expect(box.lowestWhite).toBeGreaterThan(box.bottom + 10);
  });

  it('stops start-up with a message naming WATERMARK_IMAGE when the file cannot be a logo', async () => {
    const dir = await tempDirs();
    const opaque = join(dir, 'opaque.png');
    await writeFile(opaque, await solid(40, 20, '#ff0000', 'png'));
    const jpeg = join(dir, 'logo.jpg');
    await writeFile(jpeg, await solid(40, 20, '#ff0000'));
    const broken = join(dir, 'broken.png');
    await writeFile(broken, (await sharp({ create: { width: 40, height: 20, channels: 4, background: '#f00f' } }).png().toBuffer()).subarray(0, 40));

    expect(() => loadConfig({ WATERMARK_IMAGE: join(dir, 'missing.png') })).toThrow(/WATERMARK_IMAGE=.*cannot be read/);
    expect(() => loadConfig({ WATERMARK_IMAGE: jpeg })).toThrow(/WATERMARK_IMAGE=.*expected a PNG, WebP or SVG/);
    const start = (path: string) => startLocalServer(loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', WATERMARK_IMAGE: path }));
    await expect(start(opaque)).rejects.toThrow(/WATERMARK_IMAGE has no alpha channel/);
    await expect(start(broken)).rejects.toThrow(/WATERMARK_IMAGE is not a picture/);
  });
});
