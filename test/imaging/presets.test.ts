import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { parseVariants, variantsJsonSchema, type VariantSpec } from '../../src/config/variants.js';
import type { RenderSettings } from '../../src/imaging/pipeline/render.js';
import { probeImage } from '../../src/imaging/probe.js';
import { halfTransparent, noisy, pixel } from '../helpers/images.js';
import { renderOne } from '../helpers/render.js';
import { useTempDirs } from '../helpers/temp.js';
import { useTestServer } from '../helpers/server.js';

const tempDirs = useTempDirs();
const testServer = useTestServer();

const EXAMPLE = {
  variants: [
    { name: 'card', width: 400, height: 400, fit: 'inside', formats: ['webp'], quality: 60, watermark: false, background: '#ffffff', sharpen: false, blur: 2, withoutEnlargement: true },
    { name: 'thumb', width: 150, height: 150 },
  ],
};

async function presetsFile(content: unknown): Promise<string> {
  const path = join(await tempDirs(), 'variants.json');
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const settings: RenderSettings = { outputFormat: 'jpeg', quality: 90, maxInputPixels: 1e8, maxAnimationFrames: 1 };
const preset = (extra: Partial<VariantSpec>): VariantSpec => ({ name: 'v', width: 300, height: 300, fit: 'inside', ...extra });
async function render(source: Buffer, spec: VariantSpec, extra: Partial<RenderSettings> = {}) {
  return renderOne(source, await probeImage(source, { maxInputPixels: 1e8, allowSvg: false }), spec, { ...settings, ...extra });
}

describe('variant presets (VARIANTS_FILE)', () => {
  it('reads the documented example, every field but name, width and height optional', async () => {
    const config = loadConfig({ VARIANTS_FILE: await presetsFile(EXAMPLE) });
    expect(config.variants).toEqual([{ ...EXAMPLE.variants[0] }, { name: 'thumb', width: 150, height: 150, fit: 'inside' }]);
  });

  it('gives the same presets as the positional VARIANTS for what both can say', async () => {
    const file = await presetsFile({ variants: [{ name: 'thumbnail', width: 150, height: 150, fit: 'cover', formats: ['webp'] }] });
    expect(loadConfig({ VARIANTS_FILE: file }).variants).toEqual(parseVariants('thumbnail:150x150:cover:webp'));
  });

  it('stops start-up naming the variable and what is wrong, where', async () => {
    const missing = join(await tempDirs(), 'missing.json');
    expect(() => loadConfig({ VARIANTS_FILE: missing })).toThrow(/VARIANTS_FILE=.*cannot be read/);
    const cases: [unknown, RegExp][] = [
      ['{not json', /not JSON/],
      [{ variants: [{ name: 'a', width: 10 }] }, /variants\.0\.height/],
      [{ variants: [{ name: 'a', width: 10, height: 10, blur: 0 }] }, /variants\.0\.blur/],
      [{ variants: [{ name: 'a', width: 10, height: 10, fit: 'fill' }] }, /variants\.0\.fit/],
      [{ variants: [{ name: 'a', width: 10, height: 10, colour: 'red' }] }, /colour/],
      [{ variants: [{ name: 'a', width: 10, height: 10 }, { name: 'a', width: 20, height: 20 }] }, /a name of its own/],
    ];
    for (const [content, message] of cases) {
      const path = await presetsFile(content);
      expect(() => loadConfig({ VARIANTS_FILE: path }), String(message)).toThrow(message);
    }
    expect(() => loadConfig({ VARIANTS: 'a:10x10:cover', VARIANTS_JSON: JSON.stringify(EXAMPLE) })).toThrow(/VARIANTS and VARIANTS_JSON: set only one/);
  });

  it('is published as JSON Schema, made from the schema the server checks with', async () => {
    const published = JSON.parse(await readFile(join(import.meta.dirname, '../../docs/variants.schema.json'), 'utf8'));
    expect(published).toEqual(variantsJsonSchema());
  });
});

describe('a preset’s options, in the pixels', () => {
  it('quality: a lower one makes a smaller file of the same picture', async () => {
    const source = await noisy(600, 400);
    const low = await render(source, preset({ quality: 30 }));
    const high = await render(source, preset({ quality: 95 }));
    expect(low.data.length).toBeLessThan(high.data.length * 0.6);
  });

  it('background: transparency flattened onto the preset’s colour for JPEG', async () => {
    const out = await render(await halfTransparent(), preset({ background: '#ff0000', width: 200, height: 100 }));
    const [r, g, b] = await pixel(out.data, 20, 50);
    expect(r).toBeGreaterThan(240);
    expect(g + b).toBeLessThan(30);
  });

  it('watermark: false leaves the variant unmarked where the others carry the mark', async () => {
    const black = await sharp({ create: { width: 800, height: 400, channels: 3, background: '#000000' } }).png().toBuffer();
    const watermark = { text: 'MARK', scale: 0.2, position: 'center' as const, opacity: 1, minWidth: 100 };
    const brightest = async (spec: VariantSpec) => (await sharp((await render(black, spec, { watermark })).data).raw().toBuffer()).reduce((a, b) => Math.max(a, b), 0);
    expect(await brightest(preset({ width: 800, height: 400 }))).toBeGreaterThan(200);
    expect(await brightest(preset({ width: 800, height: 400, watermark: false }))).toBeLessThan(20);
  });

  it('blur softens an edge, sharpen steepens it', async () => {
    // White left half, black right half: count the grey pixels across the edge.
    const edge = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#000000' } })
      .composite([{ input: { create: { width: 100, height: 100, channels: 3, background: '#ffffff' } }, left: 0, top: 0 }])
      .png()
      .toBuffer();
    const greys = async (spec: VariantSpec) => {
      const row = (await sharp((await render(edge, spec, { outputFormat: 'png' })).data).raw().toBuffer()).subarray(50 * 200 * 3, 51 * 200 * 3);
      let count = 0;
      for (let i = 0; i < row.length; i += 3) if (row[i]! > 20 && row[i]! < 235) count++;
      return count;
    };
    const plain = await greys(preset({ width: 200, height: 100 }));
    expect(await greys(preset({ width: 200, height: 100, blur: 8 }))).toBeGreaterThan(plain + 6);
    const { data } = await sharp((await render(await noisy(300, 200), preset({ width: 300, height: 200, sharpen: true }), { outputFormat: 'png' })).data).stats().then((s) => ({ data: s.channels[0]!.stdev }));
    const { data: soft } = await sharp((await render(await noisy(300, 200), preset({ width: 300, height: 200 }), { outputFormat: 'png' })).data).stats().then((s) => ({ data: s.channels[0]!.stdev }));
    expect(data).toBeGreaterThan(soft);
  });

  it('withoutEnlargement: false lets a small original grow to the preset’s size', async () => {
    const small = await noisy(100, 50);
    expect(await render(small, preset({ width: 400, height: 400 }))).toMatchObject({ width: 100, height: 50 });
    expect(await render(small, preset({ width: 400, height: 400, withoutEnlargement: false }))).toMatchObject({ width: 400, height: 200 });
    expect(await render(small, preset({ width: 300, height: 300, fit: 'cover', withoutEnlargement: false }))).toMatchObject({ width: 300, height: 300 });
  });

  it('runs through the server: each preset in its own formats', async () => {
    const file = await presetsFile({ variants: [{ name: 'card', width: 200, height: 200, formats: ['webp', 'avif'], quality: 50 }, { name: 'thumb', width: 64, height: 64, fit: 'cover' }] });
    const server = await testServer({ VARIANTS_FILE: file });
    const image = await server.settled(await server.upload(await noisy(640, 480)));
    expect(image.variants.map((v: { name: string; format: string; width: number }) => [v.name, v.format, v.width])).toEqual([
      ['card', 'webp', 200],
      ['card', 'avif', 200],
      ['thumb', 'jpeg', 64],
    ]);
  });
});
