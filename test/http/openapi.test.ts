import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import createClient from 'openapi-fetch';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { components, paths } from '../generated/api.js';
import { solid } from '../helpers/images.js';
import { generateApiTypes } from '../helpers/openapi.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
const KEY = 'openapi-test-key-0123';
let server: TestServer;
let dataDir: string;
let document: Record<string, unknown>;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'imgproc-openapi-'));
  server = await startTestServer(dataDir, { API_KEYS: KEY }, KEY);
  document = (await (await server.api('/openapi.json')).json()) as Record<string, unknown>;
});
afterAll(async () => {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the OpenAPI document', () => {
  it('passes Redocly’s recommended rules with no error and no warning', async () => {
    const file = join(dataDir, 'openapi.json');
    await writeFile(file, JSON.stringify(document));
    const cli = join(import.meta.dirname, '../../node_modules/@redocly/cli/bin/cli.js');
    const { stdout } = await run(process.execPath, [cli, 'lint', file, '--format=json'], { maxBuffer: 8 * 1024 * 1024 }).catch((error: { stdout: string }) => error);
    const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('declares every refusal the API answers: 401 under the key, 400 for a malformed id, 429, 503 where a slot is taken', async () => {
    const declared = (path: string, method: string) => Object.keys((document as any).paths[path][method].responses as object);
    for (const [path, method] of [['/v1/images/{id}', 'get'], ['/v1/images/{id}', 'delete'], ['/v1/images/{id}/reprocess', 'post']]) {
      expect(declared(path!, method!), `${method} ${path}`).toEqual(expect.arrayContaining(['400', '401', '429']));
    }
    expect(declared('/v1/images', 'post')).toEqual(expect.arrayContaining(['401', '408', '413', '429', '503']));
    expect(declared('/v1/images/{id}/reprocess', 'post')).toContain('503');
    // A signed link is its own authorisation.
    expect(declared('/v1/renders/{id}/{name}', 'get')).not.toContain('401');
    // The document itself needs no key.
    expect((await fetch(`${server.url}/openapi.json`)).status).toBe(200);
    // And the API does answer 400 for a malformed id, as declared.
    expect((await server.api('/v1/images/bad%20id')).status).toBe(400);
  });

  it('is what the typed client in test/generated was made from (npm run api-types makes it again)', async () => {
    expect(await generateApiTypes(document)).toBe(await readFile(join(import.meta.dirname, '../generated/api.ts'), 'utf8'));
  });

  it('drives an upload to a download through a client generated from it', async () => {
    const client = createClient<paths>({ baseUrl: server.url, headers: { 'x-api-key': KEY } });
    const bytes = await solid(640, 480, '#3366aa');
    const uploaded = await client.POST('/v1/images', {
      params: { query: { filename: 'blue.jpg' } },
      // The body is the file itself, sent as it is.
      body: bytes as unknown as string,
      bodySerializer: (body) => body as unknown as BodyInit,
      headers: { 'content-type': 'image/jpeg' },
    });
    expect(uploaded.response.status).toBe(202);
    const id = uploaded.data!.id;

    let image: components['schemas']['Image'] | undefined;
    for (let i = 0; i < 300 && image?.status !== 'done'; i++) {
      image = (await client.GET('/v1/images/{id}', { params: { path: { id } } })).data;
      if (image?.status !== 'done') await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(image).toMatchObject({ id, status: 'done', original: { format: 'jpeg', width: 640, height: 480, filename: 'blue.jpg' } });

    const thumbnail = await client.GET('/v1/images/{id}/variants/{name}', { params: { path: { id, name: 'thumbnail' } }, parseAs: 'arrayBuffer' });
    expect(thumbnail.response.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(thumbnail.data as ArrayBuffer)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 150, 150]);

    const listed = await client.GET('/v1/images', { params: { query: { limit: 10 } } });
    expect(listed.data?.items.map((item) => item.id)).toContain(id);
    expect((await client.DELETE('/v1/images/{id}', { params: { path: { id } } })).response.status).toBe(204);
    expect((await client.GET('/v1/images/{id}', { params: { path: { id } } })).response.status).toBe(404);
  });
});
