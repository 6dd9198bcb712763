import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originalKey } from '../../src/processing/keys.js';
import { animatedGif, noisy, pngHeaderOnly, solid } from '../helpers/images.js';
import { startS3rver, type S3Server } from '../helpers/s3rver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const BUCKETS = ['image-processor-input-bucket', 'image-processor-output-bucket'];

// The whole suite runs twice: on folders, and on a real S3-protocol server.
describe.each(['fs', 's3'] as const)('HTTP API on %s storage', (storage) => {
  let server: TestServer;
  let dataDir: string;
  let s3: S3Server | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'imgproc-api-'));
    s3 = storage === 's3' ? await startS3rver(BUCKETS) : undefined;
    const storageEnv: Record<string, string> = s3 ? { STORAGE: 's3', S3_ENDPOINT: s3.endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_REGION: 'us-east-1' } : {};
    server = await startTestServer(dataDir, { MAX_UPLOAD_BYTES: String(2 * 1024 * 1024), MAX_INPUT_PIXELS: '30000000', WATERMARK_TEXT: 'TEST', ...storageEnv });
  });
  afterAll(async () => {
    await server.close();
    await s3?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const upload = (body: Buffer | string | Uint8Array, contentType = 'image/jpeg', query = '') =>
    server.api(`/v1/images${query}`, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': contentType } });

  async function expectProblem(response: Response, status: number, code: string) {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
    return body;
  }

  describe('upload, process, download', () => {
    it('says an image is processing while the server is at it, from its queue: no processing manifest is stored', async () => {
      const response = await upload(await noisy(2000, 1500));
      const { id } = (await response.json()) as { id: string };
      // Asked at once: the queue took it before the upload was answered, and a render takes longer than this.
      const during = (await (await server.api(`/v1/images/${id}`)).json()) as { status: string };
      const manifestOnDisk = storage === 'fs' ? await readFile(join(dataDir, BUCKETS[1]!, id, 'manifest.json')).then(() => true, () => false) : false;
      expect(during.status).toBe('processing');
      expect(manifestOnDisk).toBe(false);
      expect((await server.settled(id)).status).toBe('done');
    });

    it('takes a raw JPEG, processes it, and serves every variant', async () => {
      const response = await upload(await noisy(2000, 1500), 'image/jpeg', '?filename=holiday%20photo.jpg');
      expect(response.status).toBe(202);
      const accepted = (await response.json()) as { id: string; status: string; links: { self: string } };
      expect(accepted).toMatchObject({ status: 'pending', links: { self: `/v1/images/${accepted.id}` } });
      expect(accepted.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

      const image = await server.settled(accepted.id);
      expect(image).toMatchObject({
        id: accepted.id,
        status: 'done',
        original: { format: 'jpeg', width: 2000, height: 1500, filename: 'holiday photo.jpg' },
        createdAt: expect.any(String),
        completedAt: expect.any(String),
      });
      expect(image.variants.map((v: any) => [v.name, v.width, v.height, v.format])).toEqual([
        ['thumbnail', 150, 150, 'jpeg'],
        ['medium', 800, 600, 'jpeg'],
        ['large', 1600, 1200, 'jpeg'],
      ]);

      const medium = image.variants[1];
      const download = await server.api(`/v1/images/${accepted.id}/variants/medium`);
      expect(download.status).toBe(200);
      expect(download.headers.get('content-type')).toBe('image/jpeg');
      expect(download.headers.get('x-content-type-options')).toBe('nosniff');
      expect(download.headers.get('cache-control')).toMatch(/max-age=\d{6,}/);
      expect(download.headers.get('content-disposition')).toBe(
        `inline; filename="holiday_photo-medium.jpg"; filename*=UTF-8''holiday%20photo-medium.jpg`,
      );
      const bytes = Buffer.from(await download.arrayBuffer());
      expect(bytes.length).toBe(medium.bytes);
      expect(await sharp(bytes).metadata()).toMatchObject({ format: 'jpeg', width: 800, height: 600 });

      const etag = download.headers.get('etag')!;
      const again = await server.api(`/v1/images/${accepted.id}/variants/medium`, { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
    });

    it('takes a multipart upload and keeps the original byte for byte', async () => {
      const original = await solid(640, 480, '#224466', 'png');
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(original)], { type: 'image/png' }), 'dir/../diagram.png');
      const response = await server.api('/v1/images?watermark=false', { method: 'POST', body: form });
      expect(response.status).toBe(202);
      const { id } = (await response.json()) as { id: string };
      const image = await server.settled(id);
      expect(image).toMatchObject({ status: 'done', original: { format: 'png', filename: 'diagram.png', bytes: original.length } });

      const download = await server.api(`/v1/images/${id}/original`);
      expect(download.headers.get('content-type')).toBe('image/png');
      expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="diagram.png"/);
      expect(Buffer.from(await download.arrayBuffer()).equals(original)).toBe(true);
    });

    it.each([
      ['scene.heic', 'heif', 320, 240],
      ['scene.bmp', 'bmp', 160, 120],
    ])('processes %s like any other upload', async (name, format, width, height) => {
      const bytes = await readFile(join(import.meta.dirname, '../fixtures', name));
      const response = await upload(bytes, 'application/octet-stream');
      expect(response.status).toBe(202);
      const image = await server.settled(((await response.json()) as { id: string }).id);
      expect(image).toMatchObject({ status: 'done', original: { format, width, height } });
      const thumbnail = Buffer.from(await (await fetch(image.variants[0].url)).arrayBuffer());
      expect(await sharp(thumbnail).metadata()).toMatchObject({ format: 'jpeg', width: Math.min(150, width), height: Math.min(150, height) });
    });

    it('takes the first frame of an animated GIF for JPEG variants', async () => {
      const response = await upload(await animatedGif(400, 300, 3), 'image/gif');
      const image = await server.settled(((await response.json()) as { id: string }).id);
      expect(image).toMatchObject({ status: 'done', original: { format: 'gif', width: 400, height: 300 } });
      const large = Buffer.from(await (await fetch(image.variants[2].url)).arrayBuffer());
      expect(await sharp(large).metadata()).toMatchObject({ format: 'jpeg', width: 400, height: 300 });
    });

    it('serves a variant through its signed URL, and refuses a tampered one', async () => {
      const response = await upload(await solid(500, 400, '#ff00ff'));
      const image = await server.settled(((await response.json()) as { id: string }).id);
      const url: string = image.variants[0].url;
      expect(url).toMatch(/[?&]sig=/);
      const ok = await fetch(url);
      expect(ok.status).toBe(200);
      expect((await sharp(Buffer.from(await ok.arrayBuffer())).metadata()).width).toBe(150);

      await expectProblem(await fetch(url.replace('/thumbnail?', '/large?')), 403, 'invalid_signature');
      await expectProblem(await fetch(url.replace(/exp=\d+/, 'exp=9999999999')), 403, 'invalid_signature');
    });

    it('answers 404 for a variant until the image is done, and for unknown ids and names', async () => {
      await expectProblem(await server.api('/v1/images/0000-unknown'), 404, 'not_found');
      await expectProblem(await server.api('/v1/images/0000-unknown/variants/medium'), 404, 'not_found');
      const response = await upload(await solid(300, 300, '#00ff00'));
      const { id } = (await response.json()) as { id: string };
      await server.settled(id);
      await expectProblem(await server.api(`/v1/images/${id}/variants/huge`), 404, 'not_found');
      await expectProblem(await server.api('/v1/images/..%2F..%2Fetc'), 400, 'invalid_request');
    });
  });

  describe('bad input', () => {
    it('400 for an empty body', async () => {
      await expectProblem(await upload(new Uint8Array(0)), 400, 'empty_body');
    });

    it('400 for multipart without a file field, and for malformed multipart', async () => {
      const form = new FormData();
      form.append('other', 'value');
      await expectProblem(await server.api('/v1/images', { method: 'POST', body: form }), 400, 'missing_file');
      await expectProblem(await upload('--x\r\nnonsense', 'multipart/form-data'), 400, 'malformed_multipart');
    });

    it('400 for a bad query', async () => {
      await expectProblem(await upload(await solid(10, 10, 'red'), 'image/jpeg', '?watermark=maybe'), 400, 'invalid_request');
    });

    it('413 for a body over MAX_UPLOAD_BYTES, declared or streamed', async () => {
      const big = Buffer.concat([await solid(10, 10, 'red'), Buffer.alloc(3 * 1024 * 1024)]);
      await expectProblem(await upload(big), 413, 'too_large');
      const streamed = new ReadableStream({
        start(controller) {
          for (let i = 0; i < 12; i++) controller.enqueue(new Uint8Array(256 * 1024));
          controller.close();
        },
      });
      const response = await server.api('/v1/images', { method: 'POST', body: streamed, headers: { 'content-type': 'image/jpeg' }, duplex: 'half' } as RequestInit);
      await expectProblem(response, 413, 'too_large');
      expect(await readdir(join(dataDir, '.tmp/uploads'))).toEqual([]);
    });

    it('415 for bytes that are not an image, whatever the header says', async () => {
      await expectProblem(await upload(Buffer.from('<html><script>alert(1)</script></html>'), 'image/jpeg'), 415, 'unsupported_format');
      await expectProblem(await upload(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/svg+xml'), 415, 'unsupported_format');
      await expectProblem(await upload(Buffer.from('BM\x36\x00\x00\x00\x00\x00', 'latin1'), 'image/bmp'), 415, 'unsupported_format');
    });

    it('422 for a bomb header, an unreadable header, or too many pixels', async () => {
      await expectProblem(await upload(pngHeaderOnly(200_000, 200_000), 'image/png'), 422, 'too_many_pixels');
      await expectProblem(await upload(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6])), 422, 'decode_failed');
      // 6000 x 6000 = 36 MP, over this server's 30 MP.
      await expectProblem(await upload(await solid(6000, 6000, 'white')), 422, 'too_many_pixels');
    });

    it('a truncated JPEG is accepted by its header, then fails with decode_failed', async () => {
      const whole = await noisy(800, 600);
      const response = await upload(whole.subarray(0, whole.length >> 1));
      expect(response.status).toBe(202);
      const image = await server.settled(((await response.json()) as { id: string }).id);
      expect(image).toMatchObject({ status: 'failed', error: { code: 'decode_failed' }, variants: [] });
    });

    it('a polyglot is processed and its outputs drop the extra bytes', async () => {
      const trailer = Buffer.from('<html><script>alert("x")</script></html>');
      const response = await upload(Buffer.concat([await solid(400, 300, '#123456'), trailer]));
      const image = await server.settled(((await response.json()) as { id: string }).id);
      expect(image.status).toBe('done');
      for (const variant of image.variants) {
        const bytes = Buffer.from(await (await fetch(variant.url)).arrayBuffer());
        expect(bytes.includes(trailer)).toBe(false);
      }
    });

    it('never answers 5xx to random bytes', async () => {
      for (let i = 0; i < 20; i++) {
        const bytes = Buffer.from(Array.from({ length: 1 + ((i * 7919) % 3000) }, (_, j) => (j * 31 + i * 17) % 256));
        const response = await upload(bytes, i % 2 ? 'application/octet-stream' : 'image/png');
        expect(response.status).toBeLessThan(500);
        await response.arrayBuffer();
      }
    });
  });

  describe('listing and deleting', () => {
    it('pages newest first with an opaque cursor, without repeats', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const response = await upload(await solid(20 + i, 20, '#abcdef'));
        ids.push(((await response.json()) as { id: string }).id);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const response = await server.api(`/v1/images?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(response.status).toBe(200);
        const page = (await response.json()) as { items: { id: string }[]; nextCursor?: string };
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((item) => item.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      // The five just uploaded are the five newest, newest first.
      expect(seen.slice(0, 5)).toEqual([...ids].reverse());
    });

    it('rejects a bad limit or cursor with 400', async () => {
      await expectProblem(await server.api('/v1/images?limit=0'), 400, 'invalid_request');
      await expectProblem(await server.api('/v1/images?limit=101'), 400, 'invalid_request');
      await expectProblem(await server.api('/v1/images?cursor=not-a-cursor'), 400, 'invalid_cursor');
    });

    it('deletes the original and every output', async () => {
      const response = await upload(await solid(300, 200, '#445566'));
      const { id } = (await response.json()) as { id: string };
      await server.settled(id);
      expect((await server.api(`/v1/images/${id}`, { method: 'DELETE' })).status).toBe(204);
      await expectProblem(await server.api(`/v1/images/${id}`), 404, 'not_found');
      await expectProblem(await server.api(`/v1/images/${id}`, { method: 'DELETE' }), 404, 'not_found');
      const left = [];
      for await (const object of server.output.list(`${id}/`)) left.push(object.key);
      expect(left).toEqual([]);
      expect(await server.input.head(originalKey(id))).toBeUndefined();
    });
  });

  describe('direct uploads', () => {
    const ticket = async (body: Record<string, unknown>) =>
      server.api('/v1/uploads', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

    it('hands out a signed PUT URL that uploads once and starts processing', async () => {
      const photo = await solid(900, 600, '#336699');
      const response = await ticket({ contentType: 'image/jpeg', size: photo.length, filename: 'direct.jpg', watermark: false });
      expect(response.status).toBe(201);
      const { id, upload: target } = (await response.json()) as { id: string; upload: { url: string; method: string; headers: Record<string, string>; expiresAt: string } };
      expect(target.method).toBe('PUT');
      expect(new Date(target.expiresAt).getTime()).toBeGreaterThan(Date.now());

      const put = await fetch(target.url, { method: 'PUT', body: new Uint8Array(photo), headers: target.headers });
      expect(put.status).toBe(200);
      const image = await server.settled(id);
      expect(image).toMatchObject({ status: 'done', original: { filename: 'direct.jpg', width: 900, height: 600 } });

      await expectProblem(await fetch(target.url, { method: 'PUT', body: new Uint8Array(photo), headers: target.headers }), 409, 'already_uploaded');
    });

    it('takes one PUT per URL: at the same moment, the others get 409; after a DELETE, the image stays deleted', async () => {
      const photo = await solid(300, 200, '#664422');
      const response = await ticket({ contentType: 'image/jpeg', size: photo.length });
      const { id, upload: target } = (await response.json()) as { id: string; upload: { url: string; headers: Record<string, string> } };
      const statuses = await Promise.all(Array.from({ length: 5 }, () => fetch(target.url, { method: 'PUT', body: new Uint8Array(photo), headers: target.headers }).then((r) => r.status)));
      expect(statuses.sort()).toEqual([200, 409, 409, 409, 409]);
      await server.settled(id);
      expect((await server.api(`/v1/images/${id}`, { method: 'DELETE' })).status).toBe(204);
      await expectProblem(await fetch(target.url, { method: 'PUT', body: new Uint8Array(photo), headers: target.headers }), 409, 'already_uploaded');
      expect((await server.api(`/v1/images/${id}`)).status).toBe(404);

      // A PUT that stored nothing gives the URL back: the client may send the right bytes.
      const second = (await (await ticket({ contentType: 'image/jpeg', size: photo.length })).json()) as { id: string; upload: { url: string; headers: Record<string, string> } };
      await expectProblem(await fetch(second.upload.url, { method: 'PUT', body: 'not an image', headers: second.upload.headers }), 415, 'unsupported_format');
      expect((await fetch(second.upload.url, { method: 'PUT', body: new Uint8Array(photo), headers: second.upload.headers })).status).toBe(200);
      await server.settled(second.id);
    });

    it('checks the PUT like any upload, and holds it to what was signed', async () => {
      const photo = await solid(100, 100, '#996633');
      const make = async (body: Record<string, unknown>) => ((await (await ticket(body)).json()) as { upload: { url: string; headers: Record<string, string> } }).upload;

      const a = await make({ contentType: 'image/jpeg', size: photo.length });
      await expectProblem(await fetch(a.url.replace(/sig=[^&]+/, 'sig=AAAA'), { method: 'PUT', body: new Uint8Array(photo), headers: a.headers }), 403, 'invalid_signature');
      await expectProblem(await fetch(a.url, { method: 'PUT', body: new Uint8Array(photo), headers: { 'content-type': 'image/png' } }), 403, 'signature_mismatch');

      const small = await make({ contentType: 'image/jpeg', size: 10 });
      await expectProblem(await fetch(small.url, { method: 'PUT', body: new Uint8Array(photo), headers: small.headers }), 413, 'too_large');

      const text = await make({ contentType: 'image/jpeg', size: 100 });
      await expectProblem(await fetch(text.url, { method: 'PUT', body: 'not an image at all', headers: text.headers }), 415, 'unsupported_format');
    });

    it('refuses to sign a type or size it would not accept', async () => {
      await expectProblem(await ticket({ contentType: 'text/html', size: 10 }), 415, 'unsupported_format');
      await expectProblem(await ticket({ contentType: 'image/jpeg', size: 10 * 1024 * 1024 }), 413, 'too_large');
      await expectProblem(await ticket({ contentType: 'image/jpeg' }), 400, 'invalid_request');
    });
  });

  describe('service endpoints', () => {
    it('reports health, metrics and the OpenAPI document', async () => {
      expect(await (await server.api('/healthz')).json()).toEqual({ status: 'ok' });

      const metrics = await (await server.api('/metrics')).text();
      expect(metrics).toMatch(/^imageproc_uploads_total \d+/m);
      expect(metrics).toMatch(/^imageproc_images_processed_total\{status="done"\} \d+/m);
      expect(metrics).toMatch(/^imageproc_images_failed_total\{code="decode_failed"\} \d+/m);
      expect(metrics).toMatch(/^imageproc_processing_duration_seconds_count \d+/m);
      expect(metrics).toMatch(/^imageproc_queue_depth \d+/m);

      const doc = (await (await server.api('/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(['/v1/images', '/v1/images/{id}', '/v1/images/{id}/variants/{name}', '/v1/images/{id}/original', '/v1/uploads']),
      );
      // Probes for operators, not operations of the API.
      expect(Object.keys(doc.paths)).not.toContain('/healthz');
      expect(Object.keys(doc.paths['/v1/images']!)).toEqual(expect.arrayContaining(['get', 'post']));
    });
  });
});
