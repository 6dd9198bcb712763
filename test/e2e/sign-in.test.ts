import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { startLocalServer, type LocalServer } from '../../src/runtime/local-server.js';
import { buildWeb } from '../../scripts/build-web.mjs';
import { launchChromium, haveChromium } from '../helpers/browser.js';
import { noisy, solid } from '../helpers/images.js';
import { API_AUDIENCE, listenForProvider, PAGE_CLIENT } from '../helpers/oidc-provider.js';

describe.runIf(haveChromium)('signing in on the page, with an OpenID provider', () => {
  let work: string;
  let browser: Browser;
  let server: LocalServer;
  let provider: Awaited<ReturnType<typeof listenForProvider>>;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'imgproc-sign-in-'));
    await buildWeb(join(work, 'web'));
    await writeFile(join(work, 'harbour.jpg'), await noisy(1600, 1000));
    await writeFile(join(work, 'field.png'), await solid(800, 600, '#588157'));
    provider = await listenForProvider();
    const config = loadConfig({ DATA_DIR: join(work, 'data'), PORT: '0', LOG_LEVEL: 'silent', OIDC_ISSUER: provider.issuer, OIDC_CLIENT_ID: PAGE_CLIENT, OIDC_AUDIENCE: API_AUDIENCE });
    server = await startLocalServer(config, { logger: pino({ level: 'silent' }), webRoot: join(work, 'web') });
    await provider.start(`${server.url}/`);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await provider?.close();
    await rm(work, { recursive: true, force: true });
  });

  /** A browser of its own (cookies, sessionStorage) for one person, with the page open. */
  async function visit(options: { clock?: boolean } = {}): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    contexts.push(context);
    if (options.clock) await context.clock.install();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}/`);
    return { page, errors };
  }

  /** The provider's own login form (oidc-provider's), in `page`. */
  async function logIn(page: Page, login: string) {
    await page.waitForURL((url) => url.toString().startsWith(provider.issuer));
    await page.locator('input[name=login]').fill(login);
    await page.locator('input[name=password]').fill('any password');
    await page.locator('button[type=submit]').click();
  }

  /** Opens the page in a browser of its own and signs `login` in at the provider; their name then shows. */
  async function signedInAs(login: string, options: { clock?: boolean } = {}) {
    const visitor = await visit(options);
    await signInButton(visitor.page).click();
    await logIn(visitor.page, login);
    await expect.poll(() => visitor.page.locator('#account-name').textContent()).toBe(login.charAt(0).toUpperCase() + login.slice(1));
    return visitor;
  }

  const signInButton = (page: Page) => page.getByRole('button', { name: 'Sign in', exact: true });
  const done = (page: Page) => page.getByRole('status').filter({ hasText: /^done$/ });
  const tokenOf = (page: Page) => page.evaluate(() => (JSON.parse(sessionStorage.getItem('image-processor.session') ?? '{}') as { accessToken?: string }).accessToken);

  it('signs in at the provider, uploads, signs out; another person sees none of it', async () => {
    const alice = await signedInAs('alice');
    expect(await alice.page.evaluate(() => Object.keys(localStorage))).toEqual([]);

    await alice.page.getByLabel('Upload images').setInputFiles([join(work, 'harbour.jpg')]);
    await expect.poll(() => done(alice.page).count(), { timeout: 30_000 }).toBe(1);
    const aliceToken = await tokenOf(alice.page);
    const listed = (await (await fetch(`${server.url}/v1/images`, { headers: { authorization: `Bearer ${aliceToken}` } })).json()) as { items: { id: string }[] };
    expect(listed.items).toHaveLength(1);
    const aliceImage = listed.items[0]!.id;

    await alice.page.getByRole('button', { name: 'Sign out' }).click();
    // oidc-provider asks before it ends its session.
    await alice.page.waitForURL((url) => url.toString().startsWith(provider.issuer));
    await alice.page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await alice.page.waitForURL(`${server.url}/`);
    await expect.poll(() => signInButton(alice.page).isVisible()).toBe(true);
    expect(await tokenOf(alice.page)).toBeUndefined();
    expect(await alice.page.locator('.card').count()).toBe(0);

    const bob = await signedInAs('bob');
    // Bob's list has loaded, and holds nothing of Alice's.
    await expect.poll(() => bob.page.locator('#images').getAttribute('aria-busy')).toBe('false');
    expect(await bob.page.locator('#empty').isVisible()).toBe(true);
    expect(await bob.page.locator('.card').count()).toBe(0);
    const bobToken = await tokenOf(bob.page);
    for (const path of [`/v1/images/${aliceImage}`, `/v1/images/${aliceImage}/original`, `/v1/images/${aliceImage}/variants/thumbnail`]) {
      expect((await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${bobToken}` } })).status, path).toBe(404);
    }
    expect(alice.errors.concat(bob.errors)).toEqual([]);
  });

  it('comes back signed out, saying so, when the person cancels at the provider', async () => {
    const erin = await visit();
    await signInButton(erin.page).click();
    await erin.page.waitForURL((url) => url.toString().startsWith(provider.issuer));
    await erin.page.getByRole('link', { name: '[ Cancel ]' }).click();
    await erin.page.waitForURL(`${server.url}/`);
    await expect.poll(() => erin.page.locator('#sign-in-message').textContent()).toMatch(/did not complete/);
    expect(await signInButton(erin.page).isVisible()).toBe(true);
    expect(erin.errors).toEqual([]);
  });

  it('renews the token before it expires, with the refresh token', async () => {
    provider.settings.refreshTokens = true;
    provider.settings.accessTokenTtl = 120;
    const carol = await signedInAs('carol', { clock: true });
    const first = await tokenOf(carol.page);
    const refreshes = provider.grants.filter((grant) => grant === 'refresh_token').length;
    await carol.page.clock.fastForward('01:30');
    await expect.poll(() => tokenOf(carol.page)).not.toBe(first);
    expect(provider.grants.filter((grant) => grant === 'refresh_token').length).toBe(refreshes + 1);
    await carol.page.getByLabel('Upload images').setInputFiles([join(work, 'field.png')]);
    await expect.poll(() => done(carol.page).count(), { timeout: 30_000 }).toBe(1);
    expect(carol.errors).toEqual([]);
  });

  it('after the session ends, keeps the chosen files and uploads them once signed in again (in a popup)', async () => {
    provider.settings.refreshTokens = false;
    provider.settings.accessTokenTtl = 120;
    const dave = await signedInAs('dave', { clock: true });
    await dave.page.clock.fastForward('03:00');

    await dave.page.getByLabel('Upload images').setInputFiles([join(work, 'harbour.jpg'), join(work, 'field.png')]);
    await expect.poll(() => dave.page.getByText('Waiting for you to sign in again').count()).toBe(2);
    expect(await dave.page.locator('#sign-in-message').textContent()).toMatch(/session has ended/);

    const [popup] = await Promise.all([dave.page.waitForEvent('popup'), signInButton(dave.page).click()]);
    // The provider still knows Dave (its own session) and answers at once, or asks him to log in again.
    const closed = popup.waitForEvent('close');
    const asked = popup.locator('input[name=login]').waitFor().then(() => true, () => false);
    if (await Promise.race([closed.then(() => false), asked])) await logIn(popup, 'dave');
    await closed;
    await expect.poll(() => done(dave.page).count(), { timeout: 30_000 }).toBe(2);
    expect(await dave.page.locator('#account-name').textContent()).toBe('Dave');
    expect(dave.errors).toEqual([]);
  });
});
