import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solid } from '../helpers/images.js';
import { startTestServer, useTestServer, type TestServer } from '../helpers/server.js';
import { useTempDirs } from '../helpers/temp.js';
import { loadConfig } from '../../src/config/config.js';
import { originalKey } from '../../src/processing/keys.js';
import { toObjectMetadata } from '../../src/processing/original-metadata.js';
import { startLocalServer } from '../../src/runtime/local-server.js';
import { appOn } from '../helpers/app.js';

const KEY = 'k-0123456789abcdef';
let server: TestServer;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'imgproc-auth-'));
  server = await startTestServer(dataDir, { API_KEYS: `other-key,${KEY}` }, KEY);
});
afterAll(async () => {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
});

const bare = (path: string, init: RequestInit = {}) => fetch(server.url + path, init);

describe('API keys', () => {
  it('401 problem+json without a key or with a wrong one, on every API route', async () => {
    for (const [method, path] of [
      ['GET', '/v1/images'],
      ['POST', '/v1/images'],
      ['GET', '/v1/images/abc'],
      ['DELETE', '/v1/images/abc'],
      ['GET', '/v1/images/abc/variants/thumbnail'],
      ['GET', '/v1/images/abc/original'],
      ['POST', '/v1/uploads'],
    ] as const) {
      for (const headers of [{}, { 'x-api-key': 'wrong' }, { 'x-api-key': `${KEY}x` }] as Record<string, string>[]) {
        const response = await bare(path, { method, headers });
        expect(response.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(response.headers.get('content-type')).toBe('application/problem+json');
        expect(await response.json()).toMatchObject({ status: 401, code: 'unauthorized' });
      }
    }
  });

  it('lets any configured key in', async () => {
    expect((await bare('/v1/images', { headers: { 'x-api-key': KEY } })).status).toBe(200);
    expect((await bare('/v1/images', { headers: { 'x-api-key': 'other-key' } })).status).toBe(200);
  });

  it('keeps the page, health and the API document open', async () => {
    expect((await bare('/healthz')).status).toBe(200);
    expect((await bare('/openapi.json')).status).toBe(200);
    const page = await bare('/');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Upload images');
    expect((await bare('/assets/app.js')).status).toBe(200);
  });

  it('signed variant links work without the key', async () => {
    const image = await server.settled(await server.upload(await solid(400, 300, '#808000')));
    expect((await fetch(image.variants[0].url)).status).toBe(200);
    // The same path without its signature needs the key.
    expect((await fetch(image.variants[0].url.split('?')[0])).status).toBe(401);
  });
});

describe('/metrics, for the operator only', () => {
  const tempDirs = useTempDirs();
  const appFor = async (env: Record<string, string>) => appOn(await tempDirs(), { API_KEYS: KEY, OWNER_ID_SECRET: 'owner-id-secret-of-thirty-two-chars!', ...env });
  /** A request from another machine, as API Gateway hands it to the app. */
  const fromElsewhere = { event: { requestContext: { identity: { sourceIp: '203.0.113.7' } } } };

  it('answers a client on this machine, and no API key holder from elsewhere', async () => {
    expect((await bare('/metrics')).status).toBe(200);
    const app = await appFor({});
    const refused = await app.request('/metrics', { headers: { 'x-api-key': KEY } }, fromElsewhere);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'operator_only' });
  });

  it('with METRICS_TOKEN, answers its bearer wherever it is, and nobody else', async () => {
    const token = 'operator-token-0123456789';
    const app = await appFor({ METRICS_TOKEN: token });
    expect((await app.request('/metrics', { headers: { authorization: `Bearer ${token}` } }, fromElsewhere)).status).toBe(200);
    for (const headers of [{}, { 'x-api-key': KEY }, { authorization: `Bearer ${token}x` }] as Record<string, string>[]) {
      expect((await app.request('/metrics', { headers }, fromElsewhere)).status).toBe(403);
    }
  });
});

describe('start-up without keys', () => {
  const tempDirs = useTempDirs();

  it('refuses to serve an unauthenticated API on a non-loopback address', async () => {
    const config = loadConfig({ DATA_DIR: await tempDirs(), HOST: '0.0.0.0', PORT: '0', LOG_LEVEL: 'silent' });
    await expect(startLocalServer(config)).rejects.toThrow(/API_KEYS/);
  });

  it('refuses short keys on a non-loopback address, and takes long ones or hashes', async () => {
    const start = async (keys: string) => startLocalServer(loadConfig({ DATA_DIR: await tempDirs(), HOST: '0.0.0.0', PORT: '0', LOG_LEVEL: 'silent', API_KEYS: keys }));
    await expect(start('a')).rejects.toThrow(/at least 16 characters/);
    const server = await start(`long-enough-key-0123,sha256:${'ab'.repeat(32)}`);
    await server.close();
  });
});

describe('owner ids', () => {
  const testServer = useTestServer();
  const unsalted = (key: string) => `key-${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;

  it('are an HMAC under a secret kept in DATA_DIR (only its user may read it), the same after a restart', async () => {
    const first = await testServer({ API_KEYS: `other-key,${KEY}` }, { apiKey: KEY });
    const dir = first.dataDir;
    const id = await first.upload(await solid(300, 200, '#404080'));
    const stored = (await first.input.head(originalKey(id)))!.metadata.owner!;
    await first.close();
    // Nothing a key could be tested against: not the key's hash, and not the same under another secret.
    expect(stored).toMatch(/^owner-[0-9a-f]{24}$/);
    expect(stored).not.toBe(unsalted(KEY));
    expect((await stat(join(dir, '.secrets', 'owner-id'))).mode & 0o777).toBe(0o600);

    const again = await testServer({ API_KEYS: `other-key,${KEY}` }, { apiKey: KEY, dataDir: dir });
    expect((await again.api(`/v1/images/${id}`)).status).toBe(200);
    expect((await again.api(`/v1/images/${id}`, { headers: { 'x-api-key': 'other-key' } })).status).toBe(404);
    const elsewhere = await testServer({ API_KEYS: KEY }, { apiKey: KEY });
    const otherId = await elsewhere.upload(await solid(300, 200, '#404080'));
    expect((await elsewhere.input.head(originalKey(otherId)))!.metadata.owner).not.toBe(stored);
  });

  it('still find the images an earlier release stored under the unsalted id, for their key only', async () => {
    const server = await testServer({ API_KEYS: `other-key,${KEY}` }, { apiKey: KEY });
    const id = 'legacyimage0000000001';
    await server.input.put(originalKey(id), await solid(300, 200, '#804040'), { metadata: toObjectMetadata({ owner: unsalted(KEY) }) });
    await server.settled(id);
    expect((await server.api(`/v1/images/${id}`)).status).toBe(200);
    const listed = (await (await server.api('/v1/images')).json()) as { items: { id: string }[] };
    expect(listed.items.map((item) => item.id)).toContain(id);
    expect((await server.api(`/v1/images/${id}`, { headers: { 'x-api-key': 'other-key' } })).status).toBe(404);
    expect((await server.api(`/v1/images/${id}`, { method: 'DELETE', headers: { 'x-api-key': 'other-key' } })).status).toBe(404);
  });

  it('come from OWNER_ID_SECRET when given, so servers sharing buckets agree', async () => {
    const secret = 's'.repeat(40);
    const owners = [];
    for (const server of [await testServer({ API_KEYS: KEY, OWNER_ID_SECRET: secret }, { apiKey: KEY }), await testServer({ API_KEYS: KEY, OWNER_ID_SECRET: secret }, { apiKey: KEY })]) {
      const id = await server.upload(await solid(300, 200, '#408040'));
      owners.push((await server.input.head(originalKey(id)))!.metadata.owner);
    }
    expect(owners[0]).toMatch(/^owner-/);
    expect(owners[1]).toBe(owners[0]);
  });
});
