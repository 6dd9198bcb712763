import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, S3Event } from 'aws-lambda';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originalKey } from '../../src/processing/keys.js';
import { readManifest } from '../../src/processing/manifest.js';
import { createS3Client, createS3Store, type S3Store } from '../../src/storage/s3-store.js';
import { restApiEvent, s3PutEvent } from '../helpers/aws-events.js';
import { noisy, solid } from '../helpers/images.js';
import { startS3rver, type S3Server } from '../helpers/s3rver.js';

const INPUT = 'image-processor-input-bucket';
const OUTPUT = 'image-processor-output-bucket';
const bundle = (name: string) => pathToFileURL(join(import.meta.dirname, '../../dist/lambda', name)).href;

let s3: S3Server;
let input: S3Store;
let output: S3Store;
let processor: (event: S3Event) => Promise<void>;
let api: (event: APIGatewayProxyEvent, context: object) => Promise<APIGatewayProxyResult>;

beforeAll(async () => {
  s3 = await startS3rver([INPUT, OUTPUT]);
  // The bundles read their configuration at cold start, as on Lambda.
  Object.assign(process.env, { STORAGE: 's3', S3_ENDPOINT: s3.endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_REGION: 'us-east-1', WATERMARK_TEXT: 'LAMBDA', LOG_LEVEL: 'silent', POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' });
  const client = createS3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1' });
  input = createS3Store(client, INPUT);
  output = createS3Store(client, OUTPUT);
  processor = ((await import(bundle('processor.mjs'))) as { handler: typeof processor }).handler;
  api = ((await import(bundle('api.mjs'))) as { handler: typeof api }).handler;
});
afterAll(() => s3?.close());

const call = (event: APIGatewayProxyEvent) => api(event, { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 30_000 });
const json = (result: APIGatewayProxyResult) => JSON.parse(result.body) as Record<string, any>;

describe('processor Lambda bundle', () => {
  it('processes an original another tool wrote, whose key needs decoding (space and plus)', async () => {
    const key = originalKey('My Photo+1.jpg');
    const body = await noisy(1200, 900);
    await input.put(key, body);
    await processor(s3PutEvent(INPUT, key, body.length));
    const manifest = await readManifest(output, 'My Photo+1.jpg');
    expect(manifest).toMatchObject({ status: 'done', original: { width: 1200, height: 900 } });
    expect(manifest?.variants.map((v) => v.key)).toEqual(['My Photo+1.jpg/thumbnail.jpg', 'My Photo+1.jpg/medium.jpg', 'My Photo+1.jpg/large.jpg']);
  });

  it('takes a repeated event calmly', async () => {
    const key = originalKey('repeat.jpg');
    await input.put(key, await solid(400, 300, '#446688'));
    await processor(s3PutEvent(INPUT, key, 1));
    const first = await readManifest(output, 'repeat.jpg');
    await processor(s3PutEvent(INPUT, key, 1));
    expect((await readManifest(output, 'repeat.jpg'))?.completedAt).toBe(first?.completedAt);
  });

  it('ends a corrupt original as a failed manifest instead of a retry loop', async () => {
    const key = originalKey('corrupt.jpg');
    await input.put(key, (await noisy(800, 600)).subarray(0, 3000));
    await expect(processor(s3PutEvent(INPUT, key, 3000))).resolves.toBeUndefined();
    expect(await readManifest(output, 'corrupt.jpg')).toMatchObject({ status: 'failed', error: { code: 'decode_failed' } });
  });

  it('ignores objects outside originals/', async () => {
    await expect(processor(s3PutEvent(INPUT, 'elsewhere/file.jpg', 10))).resolves.toBeUndefined();
  });
});

describe('API Lambda bundle behind API Gateway', () => {
  it('answers health, and serves the page', async () => {
    const health = await call(restApiEvent('GET', '/healthz'));
    expect(health.statusCode).toBe(200);
    expect(json(health)).toEqual({ status: 'ok' });
    const page = await call(restApiEvent('GET', '/'));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Upload images');
  });

  it('hands out a presigned S3 PUT; the upload lands in the input bucket and processes', async () => {
    const photo = await solid(1000, 700, '#335577');
    const ticket = await call(
      restApiEvent('POST', '/v1/uploads', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contentType: 'image/jpeg', size: photo.length, filename: 'from browser.jpg', watermark: false }),
      }),
    );
    expect(ticket.statusCode).toBe(201);
    const { id, upload } = json(ticket);
    expect(upload.url).toContain(s3.endpoint);
    expect(upload.url).not.toMatch(/x-amz-checksum/i);
    const put = await fetch(upload.url, { method: 'PUT', body: new Uint8Array(photo), headers: upload.headers });
    expect(put.status).toBe(200);
    await processor(s3PutEvent(INPUT, originalKey(id), photo.length));

    const image = json(await call(restApiEvent('GET', `/v1/images/${id}`)));
    expect(image).toMatchObject({ status: 'done', original: { filename: 'from browser.jpg', width: 1000, height: 700 } });
    // Variant links are presigned S3 URLs: they work with no key and no API Gateway.
    const medium = await fetch(image.variants[1].url);
    expect(medium.status).toBe(200);
    expect(medium.headers.get('content-disposition')).toMatch(/^inline; filename="from_browser-medium.jpg"/);
    expect((await sharp(Buffer.from(await medium.arrayBuffer())).metadata()).width).toBe(800);

    const download = await call(restApiEvent('GET', `/v1/images/${id}/variants/medium`));
    expect(download.statusCode).toBe(302);
    const location = String(download.multiValueHeaders?.location?.[0]);
    expect(location).toContain(`${OUTPUT}/${id}/medium.jpg`);
    expect((await fetch(location)).headers.get('content-type')).toBe('image/jpeg');
  });

  it('takes a small upload through API Gateway as a base64 body', async () => {
    const photo = await solid(300, 200, '#aa3300');
    const accepted = await call(restApiEvent('POST', '/v1/images', { headers: { 'content-type': 'image/jpeg' }, body: photo }));
    expect(accepted.statusCode).toBe(202);
    const { id } = json(accepted);
    expect((await input.head(originalKey(id)))?.size).toBe(photo.length);

    const refused = await call(restApiEvent('POST', '/v1/images', { headers: { 'content-type': 'image/jpeg' }, body: Buffer.from('not an image') }));
    expect(refused.statusCode).toBe(415);
    expect(json(refused)).toMatchObject({ code: 'unsupported_format' });
  });
});

describe('processor Lambda on a storage outage', () => {
  it('throws, so Lambda retries and then dead-letters the event', async () => {
    await s3.close();
    await expect(processor(s3PutEvent(INPUT, originalKey('any.jpg'), 10))).rejects.toThrow();
  });
});
