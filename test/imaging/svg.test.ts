import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeImage } from '../../src/imaging/probe.js';
import { renderVariant } from '../../src/imaging/render.js';
import { pixel, solid } from '../helpers/images.js';

describe('SVG with ALLOW_SVG=true', () => {
  it('rasterises the drawing but never loads what it references from outside', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'svg-'));
    const secret = join(dir, 'secret.png');
    await writeFile(secret, await solid(100, 100, '#ff0000', 'png'));
    const svg = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="100">` +
        `<rect width="200" height="100" fill="#ffffff"/><rect x="100" width="100" height="100" fill="#0000ff"/>` +
        `<image href="file://${secret}" xlink:href="file://${secret}" x="0" y="0" width="100" height="100"/></svg>`,
    );
    const info = await probeImage(svg, { maxInputPixels: 1e8, allowSvg: true });
    expect(info).toMatchObject({ format: 'svg', width: 200, height: 100 });
    const out = await renderVariant(svg, info, { name: 'v', width: 200, height: 100, fit: 'inside' }, { outputFormat: 'png', quality: 80, maxInputPixels: 1e8, maxAnimationFrames: 10 });
    // The drawn rectangle is there; the referenced red file is not.
    const [r, g, b] = await pixel(out.data, 150, 50);
    expect([r, g, b]).toEqual([0, 0, 255]);
    const [r2, g2, b2] = await pixel(out.data, 50, 50);
    expect(r2 === 255 && g2 === 0 && b2 === 0).toBe(false);
  });

  it('draws an embedded (data:) image, so the test above would see a loaded file', async () => {
    const red = (await solid(100, 100, '#ff0000', 'png')).toString('base64');
    const svg = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><image href="data:image/png;base64,${red}" x="0" y="0" width="100" height="100"/></svg>`,
    );
    const info = await probeImage(svg, { maxInputPixels: 1e8, allowSvg: true });
    const out = await renderVariant(svg, info, { name: 'v', width: 100, height: 100, fit: 'inside' }, { outputFormat: 'png', quality: 80, maxInputPixels: 1e8, maxAnimationFrames: 10 });
    expect(await pixel(out.data, 50, 50)).toEqual([255, 0, 0]);
  });
});
