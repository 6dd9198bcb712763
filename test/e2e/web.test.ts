import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axe from 'axe-core';
import { unzipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { startLocalServer, type LocalServer } from '../../src/runtime/local-server.js';
import { buildWeb } from '../../scripts/build-web.mjs';
import { launchChromium, haveChromium } from '../helpers/browser.js';
import { documentScreenshot } from '../helpers/screenshots.js';
import { animatedGif, halfTransparent } from '../helpers/images.js';
import { makePhoto } from '../../bench/photos.js';

const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');
/** The README's pictures of the page: made here, so they show the page as it is. */
const SCREENSHOTS = join(import.meta.dirname, '../../docs/screenshots');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 812 };
const LIMIT = 8_000_000;

/** What a person sees for each of the six files, in the words of the API. */
const FILES = {
  'beach.jpg': { status: 'done' },
  'logo.png': { status: 'done' },
  'spinner.gif': { status: 'done' },
  'broken.jpg': { status: 'failed', reason: 'The JPEG file is cut short: its end is missing. Upload the whole file.' },
  'huge.jpg': { status: 'failed', reason: '8.6 MB is over the 8 MB limit.' },
  'drawing.svg': { status: 'failed', reason: 'SVG files are not accepted on this server.' },
} as const;

describe.runIf(haveChromium)('web page in Chromium', () => {
  let work: string;
  let browser: Browser;
  const servers: LocalServer[] = [];
  const paths = (names: string[]) => names.map((name) => join(work, name));

  async function serve(env: Record<string, string> = {}) {
    const config = loadConfig({ DATA_DIR: join(work, `data-${servers.length}`), PORT: '0', LOG_LEVEL: 'silent', WATERMARK_TEXT: 'E2E', MAX_UPLOAD_BYTES: String(LIMIT), ...env });
    const server = await startLocalServer(config, { logger: pino({ level: 'silent' }), webRoot: join(work, 'web') });
    servers.push(server);
    return server;
  }

  /**
   * Opens the page at a size, collecting console and page errors, and every text each card's
   * progress showed (a percentage lasts a moment: an observer keeps them).
   */
  async function open(url: string, viewport = DESKTOP, colorScheme: 'light' | 'dark' = 'light'): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport, colorScheme, acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(url).origin });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.addInitScript(() => {
      const seen: string[] = ((window as unknown as { progressTexts: string[] }).progressTexts = []);
      new MutationObserver(() => {
        for (const node of document.querySelectorAll('.progress-text')) if (node.textContent) seen.push(node.textContent);
      }).observe(document, { subtree: true, childList: true, characterData: true });
    });
    await page.goto(url);
    return { page, errors };
  }

  /** axe-core's violations on the page as it is now (the CSP does not apply to evaluated scripts). */
  async function violations(page: Page) {
    await page.evaluate(axe.source);
    const results = await page.evaluate(() => (window as unknown as { axe: typeof axe }).axe.run(document));
    return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }

  const cardOf = (page: Page, name: string) => page.getByRole('listitem').filter({ has: page.getByRole('heading', { name, exact: true }) });
  const statusOf = (page: Page, name: string) => cardOf(page, name).getByRole('status').textContent();

  /** Waits until every card of the six files says what it should, then checks each failed one's reason. */
  async function expectSettled(page: Page) {
    for (const [name, expected] of Object.entries(FILES)) {
      await expect.poll(() => statusOf(page, name), { timeout: 30_000, message: name }).toBe(expected.status);
      if ('reason' in expected) expect(await cardOf(page, name).locator('.reason').textContent(), name).toBe(expected.reason);
    }
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'imgproc-e2e-'));
    await buildWeb(join(work, 'web'));
    // The same pixels every run, so the screenshots change only when the page does.
    const beach = await makePhoto(2400, 1600, 7, { grain: 12 });
    await writeFile(join(work, 'beach.jpg'), beach);
    await writeFile(join(work, 'logo.png'), await halfTransparent());
    await writeFile(join(work, 'spinner.gif'), await animatedGif(320, 240, 3));
    await writeFile(join(work, 'broken.jpg'), beach.subarray(0, Math.floor(beach.length / 2)));
    await writeFile(join(work, 'huge.jpg'), Buffer.concat([beach, Buffer.alloc(8_600_000 - beach.length, 0)]));
    await writeFile(join(work, 'drawing.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><circle cx="20" cy="20" r="18"/></svg>');
    await writeFile(join(work, 'small.jpg'), await sharp({ create: { width: 300, height: 200, channels: 3, background: '#2d6a4f' } }).jpeg().toBuffer());
    await mkdir(ARTIFACTS, { recursive: true });
    await mkdir(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((server) => server.close()));
    await rm(work, { recursive: true, force: true });
  });

  it('on a desktop: limits first, six files to cards with percentages and reasons, dismiss, and a drop anywhere', async () => {
    const server = await serve();
    const { page, errors } = await open(server.url + '/');
    // The limits, from the server's own settings, before anything is chosen.
    await expect.poll(() => page.locator('#limits').textContent()).toBe('JPEG, PNG, WebP, AVIF, GIF, HEIC, TIFF, BMP, up to 8 MB each. Sizes get this server’s watermark.');
    expect(await page.getByLabel('Watermark').isChecked()).toBe(true);
    expect(await violations(page)).toEqual([]);

    // Uploads at about 1 MB/s, so the large one's percentage shows.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1_000_000 });
    const calls: string[] = [];
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (/^\/v1\/(uploads(\/[^/]+)?|images\/[^/]+)$/.test(path)) calls.push(`${request.method()} ${path.replace(/^(\/v1\/(?:uploads|images))\/[^/]+$/, '$1/{id}')}`);
    });
    await page.getByLabel('Upload images').setInputFiles(paths(Object.keys(FILES)));
    await expect.poll(() => page.locator('.card').count()).toBe(6);
    await expectSettled(page);
    const seen = await page.evaluate(() => (window as unknown as { progressTexts: string[] }).progressTexts);
    expect(seen.some((text) => /^Uploading [1-9]\d?%$/.test(text)), seen.join(' | ')).toBe(true);
    // Counts that match the cards.
    expect(await page.locator('#counts').textContent()).toBe('3 done · 3 failed');
    // Three uploads and their three held status requests; the refused three asked for a ticket only.
    expect(calls.filter((call) => call === 'POST /v1/uploads')).toHaveLength(6);
    expect(calls.filter((call) => call === 'PUT /v1/uploads/{id}')).toHaveLength(4);

    // Real previews, at least 240 px wide: done cards show their image, the broken one keeps its stand-in.
    for (const name of ['beach.jpg', 'logo.png', 'spinner.gif']) {
      const preview = cardOf(page, name).locator('.preview img');
      await expect.poll(() => preview.evaluate((img) => (img as HTMLImageElement).naturalWidth), { message: name }).toBeGreaterThan(0);
      expect((await preview.boundingBox())!.width, name).toBeGreaterThanOrEqual(240);
    }
    // Each done card lists its sizes, each a link whose name starts with "Download" (SPEC.md), and they download.
    const beach = cardOf(page, 'beach.jpg');
    expect(await beach.getByRole('link', { name: /^Download/ }).count()).toBe(3);
    expect(await beach.textContent()).toContain('800×533');
    const [download] = await Promise.all([page.waitForEvent('download'), beach.getByRole('link', { name: 'Download medium' }).click()]);
    expect(await sharp((await download.path())!).metadata()).toMatchObject({ format: 'jpeg', width: 800, height: 533 });
    // A file that is the problem gets no retry; every card can be dismissed.
    for (const name of ['huge.jpg', 'drawing.svg', 'broken.jpg']) expect(await cardOf(page, name).getByRole('button', { name: `Retry ${name}` }).isVisible(), name).toBe(false);
    expect(await violations(page)).toEqual([]);
    await documentScreenshot(page, join(SCREENSHOTS, 'page-desktop.png'));

    await cardOf(page, 'drawing.svg').getByRole('button', { name: 'Dismiss drawing.svg' }).click();
    expect(await page.locator('.card').count()).toBe(5);
    expect(await page.locator('#counts').textContent()).toBe('3 done · 2 failed');
    // A dismissed image stays dismissed after a reload; the others come back as they were.
    await cardOf(page, 'broken.jpg').getByRole('button', { name: 'Dismiss broken.jpg' }).click();
    await page.reload();
    await expect.poll(() => page.locator('#images').getAttribute('aria-busy')).toBe('false');
    expect((await page.locator('.card h3').allTextContents()).sort()).toEqual(['beach.jpg', 'logo.png', 'spinner.gif']);

    // A file dropped outside any box is taken, and the browser does not open it.
    const url = page.url();
    const dropped = await page.evaluate(() => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array([0xff, 0xd8, 0xff])], 'dropped.jpg', { type: 'image/jpeg' }));
      const target = document.querySelector('h1')!;
      const over = target.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      const drop = target.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      // dispatchEvent answers false when the page cancelled the browser's own handling.
      return { over, drop };
    });
    expect(dropped).toEqual({ over: false, drop: false });
    await expect.poll(() => cardOf(page, 'dropped.jpg').count()).toBe(1);
    expect(page.url()).toBe(url);
    expect(errors.filter((text) => !/status of (413|415)/.test(text))).toEqual([]);
    await page.context().close();
  });

  it('opens an image large: every size, same sizes said so, download all, the original, and the keyboard alone', async () => {
    const server = await serve({ OUTPUT_FORMATS: 'jpeg,webp' });
    const { page, errors } = await open(server.url + '/');
    await page.getByLabel('Upload images').setInputFiles(paths(['beach.jpg', 'small.jpg']));
    await expect.poll(() => statusOf(page, 'beach.jpg'), { timeout: 30_000 }).toBe('done');
    await expect.poll(() => statusOf(page, 'small.jpg'), { timeout: 30_000 }).toBe('done');

    // Keyboard only: Tab to the card's Open button, Enter, Tab to a copy button, Enter, Escape.
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent ?? '');
    async function tabTo(label: string) {
      for (let i = 0; i < 60 && (await focused()) !== label; i++) await page.keyboard.press('Tab');
      expect(await focused()).toBe(label);
    }
    await tabTo('Open beach.jpg large');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'beach.jpg' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await focused()).toBe('Close beach.jpg');
    // Every variant in every format, with its pixels and bytes.
    const rows = dialog.getByRole('list', { name: 'Sizes' }).getByRole('listitem');
    expect(await rows.count()).toBe(6);
    const table = await rows.allTextContents();
    for (const text of ['thumbnail', 'medium', 'large']) expect(table.filter((row) => row.startsWith(text)), text).toHaveLength(2);
    expect(table.join('\n')).toMatch(/medium 800×533 · JPEG · \d+(\.\d)? KB/);
    expect(await dialog.locator('.viewer-picture img').evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(1600);
    await tabTo('Copy link to medium WebP');
    await page.keyboard.press('Enter');
    const link = await page.evaluate(() => navigator.clipboard.readText());
    const medium = await fetch(link);
    expect(medium.status).toBe(200);
    expect(await sharp(Buffer.from(await medium.arrayBuffer())).metadata()).toMatchObject({ format: 'webp', width: 800 });
    expect(await violations(page)).toEqual([]);
    await documentScreenshot(page, join(SCREENSHOTS, 'page-large-view.png'));

    // Download all: one ZIP with every variant.
    const [archive] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Download all (ZIP)' }).click()]);
    expect(archive.suggestedFilename()).toBe('beach.zip');
    const entries = unzipSync(new Uint8Array(await readFile((await archive.path())!)));
    expect(Object.keys(entries).sort()).toEqual(['beach-large.jpg', 'beach-large.webp', 'beach-medium.jpg', 'beach-medium.webp', 'beach-thumbnail.jpg', 'beach-thumbnail.webp']);
    expect(await sharp(entries['beach-large.webp']!).metadata()).toMatchObject({ format: 'webp', width: 1600, height: 1067 });
    // The original, as uploaded.
    const [original] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('link', { name: 'Download original' }).click()]);
    expect((await readFile((await original.path())!)).equals(await readFile(join(work, 'beach.jpg')))).toBe(true);

    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await focused()).toBe('Open beach.jpg large');

    // A small original gives "medium" and "large" the same pixels: the large view says so.
    await cardOf(page, 'small.jpg').getByRole('button', { name: 'Open small.jpg large' }).click();
    const small = page.getByRole('dialog', { name: 'small.jpg' });
    await expect.poll(() => small.getByRole('list', { name: 'Sizes' }).getByRole('listitem').filter({ hasText: /^large/ }).first().textContent()).toMatch(/same size as medium/);
    await page.keyboard.press('Escape');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('retries an upload whose connection dropped', async () => {
    const server = await serve();
    const { page, errors } = await open(server.url + '/');
    let dropped = 0;
    await page.route('**/v1/uploads/*', (route) => (route.request().method() === 'PUT' && dropped++ === 0 ? route.abort('connectionreset') : route.continue()));
    await page.getByLabel('Upload images').setInputFiles(paths(['logo.png']));
    await expect.poll(() => statusOf(page, 'logo.png')).toBe('failed');
    expect(await cardOf(page, 'logo.png').locator('.reason').textContent()).toBe('The upload could not reach the server.');
    await cardOf(page, 'logo.png').getByRole('button', { name: 'Retry logo.png' }).click();
    await expect.poll(() => statusOf(page, 'logo.png'), { timeout: 30_000 }).toBe('done');
    expect(await page.locator('#counts').textContent()).toBe('1 done');
    expect(errors.filter((text) => !/ERR_CONNECTION_RESET/.test(text))).toEqual([]);
    await page.context().close();
  });

  it('on a phone: the cards in the first screen as soon as files are chosen, nothing wider than the screen', async () => {
    const server = await serve();
    const { page, errors } = await open(server.url + '/', PHONE);
    await page.getByLabel('Upload images').setInputFiles(paths(Object.keys(FILES)));
    const first = page.locator('.card').first();
    await expect.poll(() => first.count()).toBe(1);
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
    expect((await first.boundingBox())!.y).toBeLessThan(PHONE.height / 2);
    await expectSettled(page);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    expect(await violations(page)).toEqual([]);
    await documentScreenshot(page, join(SCREENSHOTS, 'page-phone.png'));

    await cardOf(page, 'beach.jpg').getByRole('button', { name: 'Open beach.jpg large' }).click();
    const dialog = page.getByRole('dialog', { name: 'beach.jpg' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await violations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'web-phone-large-view.png') });
    expect(errors.filter((text) => !/status of (413|415)/.test(text))).toEqual([]);
    await page.context().close();
  });

  it('asks for the API key when the server wants one, keeps it, and sends what it refused again (in dark mode)', async () => {
    const server = await serve({ API_KEYS: 'secret-key-123', WATERMARK_TEXT: '' });
    const { page } = await open(server.url + '/', DESKTOP, 'dark');
    // No watermark here: no toggle, and the header says so.
    await expect.poll(() => page.locator('#limits').textContent()).toMatch(/Sizes get no watermark\.$/);
    expect(await page.getByLabel('Watermark').isVisible()).toBe(false);
    const key = page.getByLabel('API key');
    await expect.poll(() => key.isVisible()).toBe(true);
    expect(await page.locator('#key-message').textContent()).toBe('This server needs an API key (the x-api-key header).');
    await key.fill('not-the-key');
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByLabel('Upload images').setInputFiles(paths(['logo.png']));
    await expect.poll(() => statusOf(page, 'logo.png')).toBe('failed');
    // A wrong key is told from a missing one, in the API's words.
    expect(await page.locator('#key-message').textContent()).toBe('This key is not valid.');
    await key.fill('secret-key-123');
    await page.getByRole('button', { name: 'Use key' }).click();
    await expect.poll(() => statusOf(page, 'logo.png'), { timeout: 30_000 }).toBe('done');
    expect(await page.evaluate(() => localStorage.getItem('image-processor.api-key'))).toBe('secret-key-123');
    expect(await violations(page)).toEqual([]);

    // After a reload the stored key lists the image without asking again.
    await page.reload();
    await expect.poll(() => statusOf(page, 'logo.png')).toBe('done');
    expect(await key.isVisible()).toBe(false);
    await page.context().close();
  });
});
