import { readFile, writeFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import sharp from 'sharp';

/** Chromium repaints a scaled image with a finer filter a moment after it loads: a level or two, never more. */
const REPAINT_LEVELS = 8;

/**
 * At most one pixel in this many may move further: an anti-aliased edge a layout places a fraction of
 * a pixel apart (47 pixels of a card's border, on a loaded machine). A changed picture or line moves
 * more; a single changed character may not, and waits for the next change to be drawn.
 */
const EDGE_PIXELS_RATIO = 2000;

/** True when two PNGs show the same thing: the same size, and no more pixels past a repaint's levels than an edge accounts for. */
async function sameView(a: Buffer, b: Buffer): Promise<boolean> {
  const [left, right] = await Promise.all([a, b].map((png) => sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true })));
  const { width, height, channels } = left!.info;
  if (width !== right!.info.width || height !== right!.info.height) return false;
  let moved = 0;
  for (let pixel = 0; pixel < width * height; pixel++) {
    for (let c = 0; c < channels; c++) {
      const i = pixel * channels + c;
      if (Math.abs(left!.data[i]! - right!.data[i]!) > REPAINT_LEVELS) {
        moved++;
        break;
      }
    }
  }
  return moved <= (width * height) / EDGE_PIXELS_RATIO;
}

/**
 * A screenshot for the docs, made by the test so it shows the page as it is: written when it shows
 * something the stored one does not, so a test run leaves the tree clean when the page is unchanged.
 */
export async function documentScreenshot(page: Page, path: string): Promise<void> {
  // Every picture on screen loaded first, and showing what it was last given (a lazy image shows its
  // earlier source until its new one arrives): one still arriving would make each run's screenshot differ.
  await page.waitForFunction(() =>
    [...document.images]
      .filter((img) => img.offsetParent !== null && img.getBoundingClientRect().top < innerHeight)
      .every((img) => img.complete && img.currentSrc === img.src),
  );
  // So are background pictures (a ThumbHash shows through a transparent preview), then two frames painted.
  await page.evaluate(async () => {
    const urls = [...document.querySelectorAll<HTMLElement>('body *')]
      .filter((element) => element.offsetParent !== null)
      .flatMap((element) => [...getComputedStyle(element).backgroundImage.matchAll(/url\("([^"]+)"\)/g)].map((match) => match[1]!));
    await Promise.all(urls.map((url) => Object.assign(new Image(), { src: url }).decode().catch(() => undefined)));
    await new Promise((painted) => requestAnimationFrame(() => requestAnimationFrame(painted)));
  });
  const png = await page.screenshot({ animations: 'disabled' });
  const stored = await readFile(path).catch(() => undefined);
  if (stored && (await sameView(stored, png))) return;
  await writeFile(path, png);
}
