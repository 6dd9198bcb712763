import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { startLocalServer, type LocalServer } from '../../src/runtime/local-server.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { collect } from '../helpers/collect.js';
import { noisy, solid } from '../helpers/images.js';
import { useTestServer } from '../helpers/server.js';

const testServer = useTestServer();

const ALICE = 'alice-key-0123456789';
const BOB = 'bob-key-9876543210';
const logLines: string[] = [];
let server: LocalServer;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'imgproc-security-'));
  // Bob's key is configured by its hash only.
  const bobHash = createHash('sha256').update(BOB).digest('hex');
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', API_KEYS: `${ALICE},sha256:${bobHash}`, CORS_ORIGINS: 'https://good.example' });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  // The page as `npm run build` made it (the test run's global setup builds it).
  server = await startLocalServer(config, { logger: pino({ level: 'debug' }, sink), webRoot: join(import.meta.dirname, '../../dist/web') });
});
afterAll(async () => {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
});

const as = (key: string, path: string, init: RequestInit = {}) => fetch(server.url + path, { ...init, headers: { ...(init.headers as object), 'x-api-key': key } });

async function uploadAs(key: string, query = '') {
  const response = await as(key, `/v1/images${query}`, { method: 'POST', body: new Uint8Array(await solid(400, 300, '#123456')), headers: { 'content-type': 'image/jpeg' } });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

async function settle(key: string, id: string) {
  for (let i = 0; i < 400; i++) {
    const body = (await (await as(key, `/v1/images/${id}`)).json()) as { status: string; variants: { url: string }[] };
    if (body.status === 'done' || body.status === 'failed') return body;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('not settled');
}

describe('each API key owns its images', () => {
  it('hides one key’s images from another: 404 everywhere, absent from listings', async () => {
    const id = await uploadAs(ALICE);
    await settle(ALICE, id);
    for (const [method, path] of [
      ['GET', `/v1/images/${id}`],
      ['GET', `/v1/images/${id}/variants/thumbnail`],
      ['GET', `/v1/images/${id}/original`],
      ['POST', `/v1/images/${id}/reprocess`],
      ['DELETE', `/v1/images/${id}`],
    ]) {
      expect((await as(BOB, path!, { method: method! })).status, `${method} ${path}`).toBe(404);
    }
    const bobs = (await (await as(BOB, '/v1/images?limit=100')).json()) as { items: { id: string }[] };
    expect(bobs.items.map((item) => item.id)).not.toContain(id);
    const alices = (await (await as(ALICE, '/v1/images?limit=100')).json()) as { items: { id: string }[] };
    expect(alices.items.map((item) => item.id)).toContain(id);
    expect((await as(ALICE, `/v1/images/${id}`)).status).toBe(200);
  });

  it('keeps the owner out of upload URLs, sealed, and still gives the upload to its key', async () => {
    const photo = await solid(300, 200, '#445566');
    const ticket = await as(ALICE, '/v1/uploads', { method: 'POST', body: JSON.stringify({ contentType: 'image/jpeg', size: photo.length }), headers: { 'content-type': 'application/json' } });
    const { id, upload } = (await ticket.json()) as { id: string; upload: { url: string; headers: Record<string, string> } };
    // The owner id is a prefix of the key's SHA-256: from it, a weak key could be guessed offline.
    const aliceOwner = createHash('sha256').update(ALICE).digest().subarray(0, 12).toString('hex');
    expect(upload.url).not.toContain(aliceOwner);
    expect((await fetch(upload.url, { method: 'PUT', body: new Uint8Array(photo), headers: upload.headers })).status).toBe(200);
    expect((await as(ALICE, `/v1/images/${id}`)).status).toBe(200);
    expect((await as(BOB, `/v1/images/${id}`)).status).toBe(404);
    await settle(ALICE, id);
  });

  it('accepts a key configured as its SHA-256 hash', async () => {
    const id = await uploadAs(BOB);
    expect((await settle(BOB, id)).status).toBe('done');
  });
});

describe('deleting', () => {
  const store = (bucket: 'inputBucket' | 'outputBucket') => createFsStore(dataDir, loadConfig({ DATA_DIR: dataDir })[bucket]);

  it('takes every record of the image with it: outputs, dedup record, idempotency record', async () => {
    const records = async () => (await collect(store('inputBucket').list(''))).map((o) => o.key).filter((key) => !key.startsWith('originals/'));
    const before = await records();
    const response = await as(ALICE, '/v1/images', { method: 'POST', body: new Uint8Array(await solid(500, 300, '#0a0b0c')), headers: { 'content-type': 'image/jpeg', 'idempotency-key': 'delete-me-1' } });
    const { id } = (await response.json()) as { id: string };
    await settle(ALICE, id);
    const added = (await records()).filter((key) => !before.includes(key));
    // Listed twice (every image, its owner's), remembered for dedup and for its Idempotency-Key.
    const kinds = added.map((key) => key.split('/').slice(0, key.startsWith('index/') ? 2 : 1).join('/'));
    expect(kinds.sort()).toEqual(['dedup', 'idempotency', 'index/all', 'index/owner']);
    expect((await as(ALICE, `/v1/images/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await records()).toEqual(before);
    expect(await collect(store('outputBucket').list(`${id}/`))).toEqual([]);
  });

  it('answers 404 for outputs without an image, whoever asks, and clears them', async () => {
    await store('outputBucket').put('orphan-0001/manifest.json', Buffer.from('{"id":"orphan-0001","status":"processing"}'));
    expect((await as(BOB, '/v1/images/orphan-0001', { method: 'DELETE' })).status).toBe(404);
    expect(await collect(store('outputBucket').list('orphan-0001/'))).toEqual([]);
  });
});

describe('headers', () => {
  it('keeps an uploaded filename out of the headers’ syntax', async () => {
    const hostile = 'evil"\r\nSet-Cookie: stolen=1; x=".jpg';
    const id = await uploadAs(ALICE, `?filename=${encodeURIComponent(hostile)}`);
    await settle(ALICE, id);
    const response = await as(ALICE, `/v1/images/${id}/original`);
    const disposition = response.headers.get('content-disposition')!;
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(disposition).toMatch(/^attachment; filename="[A-Za-z0-9._-]+"; filename\*=UTF-8''[A-Za-z0-9%._~!$&+,;=:@-]+$/);
    await response.arrayBuffer();
  });

  it('names a downloaded original by the format of its bytes, with no bidirectional tricks', async () => {
    const named = await uploadAs(ALICE, `?filename=${encodeURIComponent('invoice.html')}`);
    const response = await as(ALICE, `/v1/images/${named}/original`);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="invoice.jpg"; filename*=UTF-8''invoice.jpg`);
    await response.arrayBuffer();

    // "photo\u202Egpj.exe" shows as "photoexe.jpg" where the override is honoured.
    const reversed = await uploadAs(ALICE, `?filename=${encodeURIComponent('photo\u202Egpj.exe')}`);
    const disposition = (await as(ALICE, `/v1/images/${reversed}/original`)).headers.get('content-disposition')!;
    expect(disposition).not.toMatch(/%E2%80%AE/i);
    expect(disposition).toContain(`filename*=UTF-8''photogpj.jpg`);
  });

  it('sends a strict CSP, nosniff, no framing and no referrer on the page and on downloads', async () => {
    const page = await fetch(server.url + '/');
    expect(page.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const id = await uploadAs(ALICE);
    await settle(ALICE, id);
    const download = await as(ALICE, `/v1/images/${id}/variants/medium`);
    expect(download.headers.get('content-security-policy')).toMatch(/sandbox/);
    expect(download.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
    await download.arrayBuffer();
  });

  it('keeps API answers, which carry signed links, out of every cache', async () => {
    const id = await uploadAs(ALICE);
    for (const path of [`/v1/images/${id}`, '/v1/images']) expect((await as(ALICE, path)).headers.get('cache-control')).toBe('no-store');
    const ticket = await as(ALICE, '/v1/uploads', { method: 'POST', body: JSON.stringify({ contentType: 'image/jpeg', size: 10 }), headers: { 'content-type': 'application/json' } });
    expect(ticket.headers.get('cache-control')).toBe('no-store');
    await settle(ALICE, id);
  });

  it('answers CORS only for the allowed origins', async () => {
    const preflight = (origin: string) =>
      fetch(server.url + '/v1/images', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-api-key' } });
    expect((await preflight('https://good.example')).headers.get('access-control-allow-origin')).toBe('https://good.example');
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('honours CORS_ORIGINS=* as any origin', async () => {
    const open = await testServer({ CORS_ORIGINS: '*' });
    const preflight = await fetch(open.url + '/v1/images', { method: 'OPTIONS', headers: { origin: 'https://any.example', 'access-control-request-method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('error details', () => {
  it('say what happened in our words: no library text, no path on this server', async () => {
    const corrupt = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]);
    const refused = await as(ALICE, '/v1/images', { method: 'POST', body: new Uint8Array(corrupt), headers: { 'content-type': 'image/png' } });
    expect(refused.status).toBe(422);
    const problem = (await refused.json()) as { detail: string; code: string };
    expect(problem).toMatchObject({ code: 'decode_failed', detail: expect.stringMatching(/^The PNG data is corrupt/) });
    expect(problem.detail).not.toMatch(/[/\\]|Input buffer|Vips|upload-/);

    // A JPEG whose header is whole but whose end is missing: accepted, then failed with a plain reason.
    const photo = await noisy(800, 600);
    const response = await as(ALICE, '/v1/images', { method: 'POST', body: new Uint8Array(photo.subarray(0, photo.length / 2)), headers: { 'content-type': 'image/jpeg' } });
    expect(response.status).toBe(202);
    const image = (await settle(ALICE, ((await response.json()) as { id: string }).id)) as unknown as { status: string; error: { code: string; message: string } };
    expect(image).toMatchObject({ status: 'failed', error: { code: 'decode_failed', message: 'The JPEG file is cut short: its end is missing. Upload the whole file.' } });
  });
});

describe('logs', () => {
  it('never contain an API key or a signature', async () => {
    const id = await uploadAs(ALICE);
    const image = await settle(ALICE, id);
    const signed = new URL(image.variants[0]!.url);
    await (await fetch(signed)).arrayBuffer();
    await (await as('wrong-key-guess', '/v1/images')).arrayBuffer();
    const text = logLines.join('');
    expect(text).toContain(id);
    for (const secret of [ALICE, BOB, 'wrong-key-guess', signed.searchParams.get('sig')!]) expect(text).not.toContain(secret);
  });

  it('keeps successful reads (status polls, downloads) at debug, and changes and failures at info', async () => {
    const id = await uploadAs(ALICE);
    await settle(ALICE, id);
    await (await as('wrong-key-guess', `/v1/images/${id}`)).arrayBuffer();
    const requests = logLines
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: number; msg: string; id?: string; method?: string; status?: number })
      .filter((entry) => entry.msg === 'request' && entry.id === id);
    const levelOf = (method: string, status: number) => requests.find((entry) => entry.method === method && entry.status === status)?.level;
    expect(levelOf('POST', 202)).toBe(30);
    expect(levelOf('GET', 200)).toBe(20);
    expect(levelOf('GET', 401)).toBe(30);
  });
});
