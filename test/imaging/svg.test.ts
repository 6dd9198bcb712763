import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeImage } from '../../src/imaging/probe.js';
import { renderOne } from '../helpers/render.js';
import { pixel, solid } from '../helpers/images.js';

describe('SVG with ALLOW_SVG=true', () => {
  it('refuses an SVG that embeds or links a raster, which would escape the pixel limit, with 415 saying why', async () => {
    // 100x100 as far as the SVG says, 4000x4000 inside: 160 times the pixels it declares.
    const big = (await solid(4000, 4000, '#00ff00', 'png')).toString('base64');
    const limits = { maxInputPixels: 1e6, allowSvg: true };
    const svgs = [
      `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><image href="data:image/png;base64,${big}" width="100" height="100"/></svg>`,
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:s="http://www.w3.org/2000/svg" width="100" height="100"><s:image href="https://example.org/x.png" width="10" height="10"/></svg>`,
      `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><filter id="f"><feImage href="data:image/png;base64,${big}"/></filter><rect filter="url(#f)" width="100" height="100"/></svg>`,
      `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect style="fill:url('data:image/png;base64,${big}')" width="100" height="100"/></svg>`,
      // Scanned a piece at a time: an element that straddles two pieces is still seen.
      `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><!--${'x'.repeat(65_536 - 75)}--><image href="x.png" width="10" height="10"/></svg>`,
    ];
    for (const svg of svgs) {
      await expect(probeImage(Buffer.from(svg), limits)).rejects.toMatchObject({ status: 415, code: 'unsupported_format', message: expect.stringMatching(/embed or link raster images/) });
    }
    // A drawing with no raster in it is taken, sized by what it says.
    const drawing = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><circle cx="50" cy="50" r="40" fill="#336699"/></svg>';
    expect(await probeImage(Buffer.from(drawing), limits)).toMatchObject({ format: 'svg', width: 100, height: 100 });
  });

  it('judges the SVG as the parser reads it: character references, entities, any prefix, UTF-16', async () => {
    const png = (await solid(2000, 2000, '#00ff00', 'png')).toString('base64');
    const limits = { maxInputPixels: 1e6, allowSvg: true };
    const open = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"';
    const svgs = [
      `${open} xmlns:ñ="http://www.w3.org/2000/svg"><ñ:image href="data:&#105;mage/png;base64,${png}" width="100" height="100"/></svg>`,
      `${open} xmlns:${'p'.repeat(70)}="http://www.w3.org/2000/svg"><${'p'.repeat(70)}:image href="data:;base64,${png}" width="100" height="100"/></svg>`,
      `${open}><rect style="fill:url('data:image&#47;png;base64,${png}')" width="100" height="100"/></svg>`,
      `<!DOCTYPE svg [<!ENTITY pic "&#60;image href='x.png' width='10' height='10'/>">]>${open}>&pic;</svg>`,
      `<!DOCTYPE svg [<!ENTITY d "d&#97;ta">]>${open}><rect style="fill:url('&d;:image/png;base64,${png}')"/></svg>`,
      `<!DOCTYPE svg [<!ENTITY % p "x">]>${open}/>`,
      `<!DOCTYPE svg [<!ENTITY e SYSTEM "file:///etc/passwd">]>${open}>&e;</svg>`,
      // A billion laughs of one level: two thousand references to a 900 KB entity.
      `<!DOCTYPE svg [<!ENTITY a "${'x'.repeat(900_000)}">]>${open}><text>${'&a;'.repeat(2000)}</text></svg>`,
    ].map((svg) => Buffer.from(svg));
    svgs.push(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${open}><image href="x.png" width="10" height="10"/></svg>`, 'utf16le')]));
    for (const svg of svgs) {
      await expect(probeImage(svg, limits), svg.toString('latin1').slice(0, 120)).rejects.toMatchObject({ status: 415, code: 'unsupported_format' });
    }
    // Entities that draw shapes, as the SVG test suite's files declare them, are fine.
    const shapes = Buffer.from(`<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [\n<!ENTITY box "<rect width='100' height='100' fill='#0000ff'/>">\n]>\n${open}>&box;</svg>`);
    expect(await probeImage(shapes, limits)).toMatchObject({ format: 'svg', width: 100, height: 100 });
    const info = { format: 'svg' as const, width: 100, height: 100, pages: 1, hasAlpha: true };
    const out = await renderOne(shapes, info, { name: 'v', width: 100, height: 100, fit: 'inside' }, { outputFormat: 'png', quality: 80, maxInputPixels: 1e8, maxAnimationFrames: 10 });
    expect(await pixel(out.data, 50, 50)).toEqual([0, 0, 255]);
  });

  it('rasterises the drawing but never loads what it references from outside', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'svg-'));
    const secret = join(dir, 'secret.png');
    await writeFile(secret, await solid(100, 100, '#ff0000', 'png'));
    const svg = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="100">` +
        `<rect width="200" height="100" fill="#ffffff"/><rect x="100" width="100" height="100" fill="#0000ff"/>` +
        `<image href="file://${secret}" xlink:href="file://${secret}" x="0" y="0" width="100" height="100"/></svg>`,
    );
    // Past the probe (which refuses any <image>): the renderer itself must not load the file either.
    const info = { format: 'svg' as const, width: 200, height: 100, pages: 1, hasAlpha: true };
    const out = await renderOne(svg, info, { name: 'v', width: 200, height: 100, fit: 'inside' }, { outputFormat: 'png', quality: 80, maxInputPixels: 1e8, maxAnimationFrames: 10 });
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
    const info = { format: 'svg' as const, width: 100, height: 100, pages: 1, hasAlpha: true };
    const out = await renderOne(svg, info, { name: 'v', width: 100, height: 100, fit: 'inside' }, { outputFormat: 'png', quality: 80, maxInputPixels: 1e8, maxAnimationFrames: 10 });
    expect(await pixel(out.data, 50, 50)).toEqual([255, 0, 0]);
  });
});
