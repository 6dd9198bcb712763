import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { startLocalServer, type LocalServer } from '../../src/runtime/local-server.js';
import { buildWeb } from '../../scripts/build-web.mjs';
import { launchChromium, haveChromium } from '../helpers/browser.js';
import { halfTransparent, noisy, solid } from '../helpers/images.js';

const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');

describe.runIf(haveChromium)('web page in Chromium', () => {
  let work: string;
  let browser: Browser;
  const servers: LocalServer[] = [];

  async function serve(env: Record<string, string> = {}) {
    const config = loadConfig({ DATA_DIR: join(work, `data-${servers.length}`), PORT: '0', LOG_LEVEL: 'silent', WATERMARK_TEXT: 'E2E', ...env });
    const server = await startLocalServer(config, { logger: pino({ level: 'silent' }), webRoot: join(work, 'web') });
    servers.push(server);
    return server;
  }

  /** Opens the page and collects every console error and page error. */
  async function open(url: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(url);
    return { page, errors };
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'imgproc-e2e-'));
    await buildWeb(join(work, 'web'));
    await writeFile(join(work, 'beach.jpg'), await noisy(2400, 1600));
    await writeFile(join(work, 'logo.png'), await halfTransparent());
    await writeFile(join(work, 'portrait.jpg'), await solid(900, 1600, '#2d6a4f'));
    await writeFile(join(work, 'notes.jpg'), 'these are my notes, not a photo');
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((server) => server.close()));
    await rm(work, { recursive: true, force: true });
  });

  it('uploads three images, shows each done with its variants, and downloads one', async () => {
    const server = await serve();
    const { page, errors } = await open(server.url + '/');
    // The API calls of an upload: its ticket, its PUT, and one held status request (?wait=), no polling.
    const calls: string[] = [];
    // At most two status requests held at once: the browser's other connections stay free.
    let held = 0;
    let mostHeld = 0;
    const isWait = (url: string) => new URL(url).searchParams.has('wait');
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (/^\/v1\/(uploads(\/[^/]+)?|images\/[^/]+)$/.test(path)) calls.push(`${request.method()} ${path.replace(/^(\/v1\/(?:uploads|images))\/[^/]+$/, '$1/{id}')}`);
      if (isWait(request.url())) mostHeld = Math.max(mostHeld, ++held);
    });
    page.on('requestfinished', (request) => isWait(request.url()) && held--);
    page.on('requestfailed', (request) => isWait(request.url()) && held--);
    await page.getByLabel('Upload images').setInputFiles(['beach.jpg', 'logo.png', 'portrait.jpg'].map((name) => join(work, name)));

    const done = page.getByRole('status').filter({ hasText: /^done$/ });
    await expect.poll(() => done.count(), { timeout: 30_000 }).toBe(3);

    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'beach.jpg' }) });
    await expect.poll(() => card.getByRole('link', { name: /^Download/ }).count()).toBe(3);
    expect(await card.textContent()).toContain('2400×1600');
    expect(await card.textContent()).toContain('800×533');

    const [download] = await Promise.all([page.waitForEvent('download'), card.getByRole('link', { name: 'Download medium' }).click()]);
    const saved = join(work, 'downloaded');
    await download.saveAs(saved);
    expect(await sharp(saved).metadata()).toMatchObject({ format: 'jpeg', width: 800, height: 533 });

    // The previews load through signed links, without the key.
    await expect.poll(() => card.getByRole('img').evaluateAll((imgs) => imgs.every((img) => (img as HTMLImageElement).naturalWidth > 0))).toBe(true);
    await expect.poll(async () => (await page.locator('#counts').textContent()) ?? '').toMatch(/3 done/);
    await page.screenshot({ path: join(ARTIFACTS, 'web-done.png'), fullPage: true });
    expect(calls.sort()).toEqual(['GET /v1/images/{id}', 'POST /v1/uploads', 'PUT /v1/uploads/{id}'].flatMap((call) => [call, call, call]));
    expect(mostHeld).toBeLessThanOrEqual(2);
    expect(errors).toEqual([]);
  });

  it('shows a non-image as failed, with the reason in words', async () => {
    const server = await serve();
    const { page, errors } = await open(server.url + '/');
    await page.getByLabel('Upload images').setInputFiles(join(work, 'notes.jpg'));
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'notes.jpg' }) });
    await expect.poll(() => card.getByRole('status').textContent()).toBe('failed');
    expect(await card.locator('.reason').textContent()).toMatch(/not a supported image/);
    // The refused upload is the one expected failure in the console: the browser logs the 415.
    expect(errors.filter((text) => !/status of 415/.test(text))).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'web-failed.png'), fullPage: true });
  });

  it('asks for the API key when the server wants one, keeps it, and then works', async () => {
    const server = await serve({ API_KEYS: 'secret-key-123' });
    const { page } = await open(server.url + '/');
    const key = page.getByLabel('API key');
    await expect.poll(() => key.isVisible()).toBe(true);
    await key.fill('secret-key-123');
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByLabel('Upload images').setInputFiles(join(work, 'portrait.jpg'));
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 30_000 }).toBe('done');
    expect(await page.evaluate(() => localStorage.getItem('image-processor.api-key'))).toBe('secret-key-123');

    // After a reload the stored key lists the image without asking again.
    await page.reload();
    await expect.poll(() => page.getByRole('status').first().textContent()).toBe('done');
    expect(await key.isVisible()).toBe(false);
  });

  it('fits a phone-width screen', async () => {
    const server = await serve();
    const { page, errors } = await open(server.url + '/');
    await page.setViewportSize({ width: 375, height: 800 });
    await page.getByLabel('Upload images').setInputFiles(join(work, 'beach.jpg'));
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 30_000 }).toBe('done');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, 'web-phone.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
