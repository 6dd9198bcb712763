import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createImages } from '../../src/lifecycle/images.js';
import type { Owner } from '../../src/lifecycle/owner.js';
import { sweepExpired } from '../../src/lifecycle/retention.js';
import { pendingKey } from '../../src/processing/keys.js';
import { writeManifest } from '../../src/processing/manifest.js';
import { findUnfinished } from '../../src/processing/recovery.js';
import { createS3Client, createS3Store } from '../../src/storage/s3-store.js';
import { countingProxy } from '../helpers/counting-proxy.js';
import { startS3rver, type S3Server } from '../helpers/s3rver.js';
import { inParallel } from '../../src/processing/in-parallel.js';
import { storeImage, type StoredImage } from '../helpers/stored-images.js';

/**
 * What a listing, a start-up scan and a retention sweep cost in storage requests on S3 (s3rver
 * behind a counting proxy), on a small bucket and on the same bucket after many more images of
 * another owner: the counts must not grow with the bucket.
 */
const ALICE: Owner = { id: 'owner-alice' };
const BOB: Owner = { id: 'owner-bob' };
const CAROL = 'owner-carol';
const LIMIT = 20;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

let s3: S3Server;
let proxy: Awaited<ReturnType<typeof countingProxy>>;
let input: ReturnType<typeof createS3Store>;
let output: ReturnType<typeof createS3Store>;
const images = () => createImages({ input, output, config: loadConfig({}) });
const stored: StoredImage[] = [];

/** `count` images, one a minute going back from `start` minutes before NOW. */
async function fill(prefix: string, count: number, start: number, image: Partial<StoredImage> = {}) {
  const batch = Array.from({ length: count }, (_, i) => ({ id: `${prefix}-${String(i).padStart(4, '0')}`, uploadedAt: NOW - (start + i) * 60_000, ...image }));
  await inParallel(batch, 16, (entry) => storeImage(input, output, entry));
  stored.push(...batch);
}

/** The storage requests `work` made. */
async function requestsOf<T>(work: () => Promise<T>): Promise<{ result: T; requests: number }> {
  const before = proxy.count();
  const result = await work();
  return { result, requests: proxy.count() - before };
}

/** What an owner should see, newest first (then by id), computed from what was stored. */
const expected = (owner: Owner | undefined) =>
  stored
    .filter((image) => owner === undefined || !image.owner || image.owner === owner.id)
    .sort((a, b) => b.uploadedAt - a.uploadedAt || (a.id < b.id ? -1 : 1))
    .map((image) => image.id);

/** Every listing, start-up scan and sweep this suite times, with the requests each made. */
async function measure() {
  const first = await requestsOf(() => images().list({ limit: LIMIT, owner: ALICE }));
  const second = await requestsOf(() => images().list({ limit: LIMIT, owner: ALICE, cursor: first.result.nextCursor! }));
  const bob = await requestsOf(() => images().list({ limit: LIMIT, owner: BOB }));
  const everyone = await requestsOf(() => images().list({ limit: LIMIT, owner: undefined }));
  const recovery = await requestsOf(() => findUnfinished(input, output));
  const sweep = await requestsOf(() => sweepExpired(input, output, 30, new Date(NOW)));
  return { first, second, bob, everyone, recovery, sweep };
}

beforeAll(async () => {
  s3 = await startS3rver(['cost-in', 'cost-out']);
  proxy = await countingProxy(s3.endpoint);
  const client = createS3Client({ endpoint: proxy.endpoint, forcePathStyle: true, region: 'us-east-1' });
  input = createS3Store(client, 'cost-in');
  output = createS3Store(client, 'cost-out');
});

afterAll(async () => {
  await proxy?.close();
  await s3?.close();
});

describe('the cost of a listing, a start-up and a sweep', () => {
  it('is one listing per scope and one read per image shown, however many images others have', async () => {
    // Alice's 25 interleaved with Carol's and 3 shared ones; one of Alice's not processed yet.
    await fill('alice', 25, 0, { owner: ALICE.id });
    await fill('pending', 1, 3, { owner: ALICE.id, done: false });
    await fill('shared', 3, 5);
    await fill('carol', 40, 1, { owner: CAROL });
    const small = await measure();

    expect(small.first.result.records.map((record) => record.id)).toEqual(expected(ALICE).slice(0, LIMIT));
    expect(small.second.result.records.map((record) => record.id)).toEqual(expected(ALICE).slice(LIMIT, 2 * LIMIT));
    expect(small.second.result.nextCursor).toBeUndefined();
    // Bob has uploaded nothing: he sees the shared images only.
    expect(small.bob.result.records.map((record) => record.id)).toEqual(expected(BOB));
    expect(small.everyone.result.records.map((record) => record.id)).toEqual(expected(undefined).slice(0, LIMIT));
    // Alice's scope and the shared one: 2 listings, a manifest read per image, a head for the pending one.
    expect(small.first.requests).toBe(2 + LIMIT + 1);
    expect(small.bob.requests).toBe(2 + 3);
    expect(small.everyone.requests).toBe(1 + LIMIT + 1);
    // Uploaded, never started, no marker: found by name.
    expect(small.recovery.result).toEqual(['pending-0000']);
    expect(small.sweep.result).toEqual([]);

    // Ten times the images, none of them Alice's.
    await fill('carol-more', 400, 100, { owner: CAROL });
    const large = await measure();
    expect(large.first.result.records.map((record) => record.id)).toEqual(small.first.result.records.map((record) => record.id));
    expect(large.bob.result.records.map((record) => record.id)).toEqual(expected(BOB));
    for (const name of ['first', 'second', 'bob', 'everyone', 'sweep'] as const) expect([name, large[name].requests]).toEqual([name, small[name].requests]);
    // Start-up names every original and every output folder, 1,000 to a request; it reads none of them.
    expect(large.recovery.requests).toBeLessThanOrEqual(small.recovery.requests + 2);
    expect(proxy.requests.slice(-large.recovery.requests - large.sweep.requests).every((request) => request.method === 'GET' && request.url.includes('list-type=2'))).toBe(true);
  });

  it('reads, at start-up, only the images marked pending, and at a sweep only the images that expire', async () => {
    const unfinished = { id: 'crashed', owner: ALICE.id, uploadedAt: NOW - 40 * DAY, done: false };
    await storeImage(input, output, unfinished);
    await input.put(pendingKey('crashed'), Buffer.alloc(0));
    await writeManifest(output, { id: 'crashed', status: 'processing', original: { bytes: 1 }, variants: [], watermark: false, createdAt: new Date(unfinished.uploadedAt).toISOString(), sourceEtag: 'x' });
    await input.put('originals/dropped-while-down.jpg', Buffer.from('x'));
    const recovery = await requestsOf(() => findUnfinished(input, output));
    expect(recovery.result.sort()).toEqual(['crashed', 'dropped-while-down.jpg', 'pending-0000']);
    // 3 listings (markers, output folders, originals) and, for the one marker, its original and manifest.
    expect(recovery.requests).toBe(3 + 2);

    // 40 days old: past a retention of 30, alone among 500.
    const sweep = await requestsOf(() => sweepExpired(input, output, 30, new Date(NOW)));
    expect(sweep.result).toEqual(['crashed']);
    expect((await images().list({ limit: LIMIT, owner: ALICE })).records.map((record) => record.id)).not.toContain('crashed');
    expect(sweep.requests).toBeLessThan(20);
  });
});
