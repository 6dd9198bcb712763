import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBuffer } from '../../src/storage/object-store.js';
import { collect } from '../helpers/collect.js';
import { countingProxy } from '../helpers/counting-proxy.js';
import { createPresignClient, createS3Client, createS3Store, type S3Store } from '../../src/storage/s3-store.js';
import { ANY_SIGNED, startIamS3, type IamS3 } from '../helpers/aws/iam-s3.js';
import { startS3rver, type S3Server } from '../helpers/s3rver.js';

let s3: S3Server;
let gate: IamS3;
let store: S3Store;

beforeAll(async () => {
  s3 = await startS3rver(['test-bucket']);
  // s3rver takes any SigV4 signature; the gate checks them as S3 does.
  gate = await startIamS3(s3.endpoint, undefined, { store: ANY_SIGNED });
  store = createS3Store(createS3Client({ endpoint: gate.endpoints.store, forcePathStyle: true, region: 'us-east-1' }), 'test-bucket');
});
afterAll(async () => {
  await gate.close();
  await s3.close();
});

/** What every store promises is in contract.test.ts; here, what S3 adds (multipart, presigning). */
describe('S3 object store (against s3rver, signatures checked)', () => {
  it('reads a page of keys in one request, whatever else the prefix holds', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `many/k${String(i).padStart(4, '0')}`);
    for (const key of keys) await store.put(key, Buffer.from('x'));
    const proxy = await countingProxy(s3.endpoint);
    try {
      const counted = createS3Store(createS3Client({ endpoint: proxy.endpoint, forcePathStyle: true, region: 'us-east-1' }), 'test-bucket');
      const page = async (options: { startAfter?: string; limit?: number }) => {
        const before = proxy.count();
        const listed = (await collect(counted.list('many/', options))).map((o) => o.key);
        return { listed, requests: proxy.count() - before };
      };
      expect(await page({ limit: 20 })).toEqual({ listed: keys.slice(0, 20), requests: 1 });
      expect(await page({ startAfter: keys[150], limit: 20 })).toEqual({ listed: keys.slice(151, 171), requests: 1 });
      expect(await page({ startAfter: keys[290], limit: 20 })).toEqual({ listed: keys.slice(291), requests: 1 });
    } finally {
      await proxy.close();
    }
  });

  it('streams a large body up as a multipart upload and stores the exact bytes, not aws-chunked framing', async () => {
    const parts = Array.from({ length: 20 }, (_, i) => Buffer.alloc(1024 * 1024, i));
    const info = await store.put('big.bin', Readable.from(parts), { contentType: 'application/octet-stream' });
    expect(info.size).toBe(20 * 1024 * 1024);
    const back = await getBuffer(store, 'big.bin');
    expect(back?.length).toBe(20 * 1024 * 1024);
    expect(back?.equals(Buffer.concat(parts))).toBe(true);

    const small = await store.put('small.bin', Readable.from([Buffer.from('streamed')]));
    expect(small.size).toBe(8);
    expect((await getBuffer(store, 'small.bin'))?.toString()).toBe('streamed');
  });

  it('presigns a PUT without a checksum of an empty body, which a browser upload could never match', async () => {
    const { url, headers } = await store.presignPut('originals/direct', 300, { contentType: 'image/jpeg', metadata: { filename: 'a.jpg', watermark: 'false' }, size: 9 });
    expect(url).not.toMatch(/x-amz-checksum|x-amz-sdk-checksum-algorithm/i);
    expect(headers).toEqual({ 'Content-Type': 'image/jpeg', 'x-amz-meta-filename': 'a.jpg', 'x-amz-meta-watermark': 'false' });
    const put = await fetch(url, { method: 'PUT', body: 'the bytes', headers });
    expect(put.status).toBe(200);
    expect(await store.head('originals/direct')).toMatchObject({ size: 9, contentType: 'image/jpeg', metadata: { filename: 'a.jpg', watermark: 'false' } });
  });

  it('signs the declared length into a presigned PUT, so a longer body is refused', async () => {
    const { url, headers } = await store.presignPut('originals/exact', 300, { contentType: 'image/jpeg', size: 9 });
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')?.split(';')).toContain('content-length');
    const longer = await fetch(url, { method: 'PUT', body: 'the bytes and more', headers });
    expect(longer.status).toBe(403);
    expect(await store.head('originals/exact')).toBeUndefined();
  });

  it('presigns through the transfer-acceleration endpoint when the bucket has it, and never for a custom endpoint', async () => {
    const aws = createS3Store(createS3Client({ region: 'eu-west-1' }), 'photos-in', createPresignClient({ region: 'eu-west-1', accelerate: true }));
    const put = new URL((await aws.presignPut('originals/x', 300, { contentType: 'image/jpeg', size: 5 })).url);
    expect(put.host).toBe('photos-in.s3-accelerate.amazonaws.com');
    expect(put.pathname).toBe('/originals/x');
    const plain = createS3Store(createS3Client({ region: 'eu-west-1' }), 'photos-in', createPresignClient({ region: 'eu-west-1' }));
    expect(new URL(await plain.presignGet('originals/x', 300)).host).toBe('photos-in.s3.eu-west-1.amazonaws.com');
    const custom = createPresignClient({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, accelerate: true });
    expect(new URL(await createS3Store(custom, 'photos-in', custom).presignGet('k', 60)).host).toBe('127.0.0.1:9000');
  });

  it('presigns a GET that answers with the requested headers', async () => {
    await store.put('out/v.jpg', Buffer.from('jpeg bytes'), { contentType: 'image/jpeg' });
    const url = await store.presignGet('out/v.jpg', 300, { contentDisposition: 'inline; filename="v.jpg"', cacheControl: 'private, max-age=60' });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe('inline; filename="v.jpg"');
    expect(response.headers.get('cache-control')).toBe('private, max-age=60');
    expect(await response.text()).toBe('jpeg bytes');
  });
});
