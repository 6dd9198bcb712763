import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp, { type OutputInfo } from 'sharp';
import { describe, expect, it } from 'vitest';
import { probeImage } from '../../src/imaging/probe.js';
import type { RenderSettings } from '../../src/imaging/pipeline/render.js';
import { renderOne } from '../helpers/render.js';
import { prepareWatermarks, renderWatermark, watermarkFor } from '../../src/imaging/watermark.js';
import { animatedGif, solid } from '../helpers/images.js';

const run = promisify(execFile);

/** Runs the measuring script where fontconfig's only font folder is empty: no system font can help. */
async function measureWithoutSystemFonts(mode: 'shipped' | 'system') {
  const dir = await mkdtemp(join(tmpdir(), 'nofonts-'));
  const config = join(dir, 'fonts.conf');
  await writeFile(
    config,
    `<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig><dir>${dir}/empty</dir><cachedir>${dir}/cache</cachedir></fontconfig>`,
  );
  const script = join(import.meta.dirname, '../fixtures/measure-text.ts');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', script, mode], {
    env: { ...process.env, FONTCONFIG_FILE: config, FONTCONFIG_PATH: dir, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
  });
  return JSON.parse(stdout) as { wide: number; narrow: number };
}

describe('watermark font', () => {
  it('the isolation works: without the shipped file Pango has no glyphs (control)', async () => {
    const { wide, narrow } = await measureWithoutSystemFonts('system');
    // Missing-glyph boxes are all one width, whatever the letter.
    expect(Math.abs(wide - narrow)).toBeLessThanOrEqual(2);
  });

  it('renders real glyphs from the shipped font on a machine with no fonts', async () => {
    const { wide, narrow } = await measureWithoutSystemFonts('shipped');
    expect(narrow).toBeGreaterThan(0);
    // In DejaVu Sans Bold a "W" is about three times as wide as an "i".
    expect(wide / narrow).toBeGreaterThan(2);
  });
});

describe('watermark placement', () => {
  const options: RenderSettings = { outputFormat: 'png', quality: 90, maxInputPixels: 1e8, maxAnimationFrames: 100 };
  const mark: NonNullable<RenderSettings['watermark']> = { text: 'SAMPLE', scale: 0.2, position: 'southeast', opacity: 1, minWidth: 300 };

  async function renderBlack(width: number, height: number, watermark = mark) {
    const source = await solid(width, height, '#000000', 'png');
    const info = await probeImage(source, { maxInputPixels: 1e8, allowSvg: false });
    const out = await renderOne(source, info, { name: 'v', width, height, fit: 'inside' }, { ...options, watermark });
    return sharp(out.data).raw().toBuffer({ resolveWithObject: true });
  }

  /** Where the white glyph pixels are on a black image. */
  function inkBox({ data, info }: { data: Buffer; info: OutputInfo }) {
    let [left, top, right, bottom] = [info.width, info.height, -1, -1];
    for (let y = 0; y < info.height; y++) {
      for (let x = 0; x < info.width; x++) {
        if (data[(y * info.width + x) * info.channels]! > 128) {
          left = Math.min(left, x);
          right = Math.max(right, x);
          top = Math.min(top, y);
          bottom = Math.max(bottom, y);
        }
      }
    }
    return { left, top, right, bottom, height: bottom - top + 1 };
  }

  it('stamps the mark in the configured corner, sized to about a twenty-fifth of the width', async () => {
    const box = inkBox(await renderBlack(1000, 600));
    expect(box.right).toBeGreaterThan(800);
    expect(box.bottom).toBeGreaterThan(500);
    expect(box.bottom).toBeLessThan(600);
    // Cap height of 40 px type: between half and the whole of 1000/25.
    expect(box.height).toBeGreaterThan(20);
    expect(box.height).toBeLessThanOrEqual(45);

    const northwest = inkBox(await renderBlack(1000, 600, { ...mark, position: 'northwest' }));
    expect(northwest.left).toBeLessThan(100);
    expect(northwest.top).toBeLessThan(100);
  });

  it('scales the mark with the variant', async () => {
    const small = inkBox(await renderBlack(500, 300));
    const large = inkBox(await renderBlack(1500, 900));
    expect(large.height / small.height).toBeGreaterThan(2.5);
  });

  it('leaves variants narrower than WATERMARK_MIN_WIDTH unmarked', async () => {
    expect(inkBox(await renderBlack(299, 200)).right).toBe(-1);
    expect(inkBox(await renderBlack(300, 200)).right).toBeGreaterThan(0);
  });

  it('fades the mark by WATERMARK_OPACITY', async () => {
    const brightest = async (opacity: number) => {
      const { data } = await renderBlack(800, 400, { ...mark, opacity });
      return data.reduce((max, value) => Math.max(max, value), 0);
    };
    expect(await brightest(1)).toBeGreaterThan(240);
    const half = await brightest(0.5);
    expect(half).toBeGreaterThan(100);
    expect(half).toBeLessThan(150);
  });

  it('stamps every frame of an animation', async () => {
    const source = await animatedGif(600, 300, 3);
    const info = await probeImage(source, { maxInputPixels: 1e8, allowSvg: false });
    const out = await renderOne(source, info, { name: 'v', width: 600, height: 300, fit: 'inside' }, { ...options, outputFormat: 'webp', watermark: mark });
    expect(out.pages).toBe(3);
    for (const page of [0, 1, 2]) {
      const frame = await sharp(out.data, { page }).extract({ left: 300, top: 240, width: 300, height: 60 }).greyscale().raw().toBuffer();
      // No frame is white anywhere but where the mark's glyphs are.
      expect(frame.reduce((max, v) => Math.max(max, v), 0)).toBeGreaterThan(230);
    }
  });

  it('shows markup characters as typed', async () => {
    const plain = await renderWatermark('a<b>&c', 600, 1);
    expect(plain.width).toBeGreaterThan(0);
  });
});

describe('watermarkFor', () => {
  it('renders a mark once per text, width and opacity, and forgets the oldest beyond a few dozen', async () => {
    const first = watermarkFor('© cache test', 640, 0.5);
    expect(watermarkFor('© cache test', 640, 0.5)).toBe(first);
    expect(watermarkFor('© cache test', 641, 0.5)).not.toBe(first);
    expect(watermarkFor('© cache test', 640, 0.4)).not.toBe(first);
    // The cached mark is the rendered one, not an approximation of it.
    const [cached, fresh] = await Promise.all([first, renderWatermark('© cache test', 640, 0.5)]);
    expect(cached.width).toBe(fresh.width);
    expect(cached.data.equals(fresh.data)).toBe(true);
    for (let width = 700; width < 740; width++) void watermarkFor('© cache test', width, 0.5);
    expect(watermarkFor('© cache test', 640, 0.5)).not.toBe(first);
  });
});

describe('prepareWatermarks', () => {
  /** Whether a promise has settled already: its callback is queued before one made after it. */
  const settled = (promise: Promise<unknown>) => Promise.race([promise.then(() => true), Promise.resolve().then(() => false)]);

  it('renders the marks of the variants wide enough to carry one, before any image needs them', async () => {
    const mark = { text: '© prepared', scale: 0.2, opacity: 0.5, minWidth: 300 };
    await prepareWatermarks(mark, [150, 800, 1600]);
    expect(await settled(watermarkFor(mark.text, 800, mark.opacity))).toBe(true);
    expect(await settled(watermarkFor(mark.text, 1600, mark.opacity))).toBe(true);
    expect(await settled(watermarkFor(mark.text, 150, mark.opacity))).toBe(false);
    // No text, no mark: nothing to prepare (Pango would refuse an empty text).
    await expect(prepareWatermarks({ ...mark, text: '' }, [800])).resolves.toBeUndefined();
  });
});
