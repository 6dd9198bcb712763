import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { inParallel } from '../../src/processing/in-parallel.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { startS3rver } from '../helpers/s3rver.js';
import { useTestServer, type TestServer } from '../helpers/server.js';

const testServer = useTestServer();
const BUCKETS = ['image-processor-input-bucket', 'image-processor-output-bucket'];
const ROUNDS = 240;

/** Four small pictures: uploads repeat them, so dedup records are made and raced too. */
const pictures = () =>
  Promise.all(['#aa3300', '#0033aa', '#33aa00', '#aaaa00'].map((colour) => sharp({ create: { width: 96, height: 64, channels: 3, background: colour } }).png().toBuffer()));

async function keys(store: ObjectStore): Promise<string[]> {
  const found: string[] = [];
  for await (const object of store.list('')) found.push(object.key);
  return found;
}

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/**
 * Uploads (some with an Idempotency-Key) and deletes, each delete a random moment after its upload
 * was answered: before, during or after its processing, while other uploads write into the same
 * index folders. Every answer must be 202 or 204, and once the queue is idle nothing of any image
 * may be left: no original, variant, manifest, index entry, pending marker, dedup or idempotency
 * record, nor metadata beside them.
 */
async function raceUploadsAndDeletes(server: TestServer) {
  const images = await pictures();
  const statuses = new Map<string, number>();
  const count = (what: string) => statuses.set(what, (statuses.get(what) ?? 0) + 1);
  await inParallel(Array.from({ length: ROUNDS }, (_, i) => i), 8, async (i) => {
    const headers: Record<string, string> = { 'content-type': 'image/png', ...(i % 2 ? { 'idempotency-key': `race-${i}` } : {}) };
    const uploaded = await server.api('/v1/images', { method: 'POST', body: new Uint8Array(images[i % images.length]!), headers });
    count(`upload ${uploaded.status}`);
    if (uploaded.status !== 202) return;
    const { id } = (await uploaded.json()) as { id: string };
    await new Promise((resolve) => setTimeout(resolve, (i * 7) % 60));
    count(`delete ${(await server.api(`/v1/images/${id}`, { method: 'DELETE' })).status}`);
  });
  expect(Object.fromEntries(statuses)).toEqual({ 'upload 202': ROUNDS, 'delete 204': ROUNDS });
  await server.queue.idle();
  // Only the marker that the index is complete.
  expect(await keys(server.input)).toEqual(['index/ready']);
  expect(await keys(server.output)).toEqual([]);
}

describe('uploads, deletes and processing racing each other leave nothing of a deleted image', () => {
  it(`on folders (${ROUNDS} rounds)`, async () => {
    const server = await testServer({ CONCURRENCY: '2' });
    await server.recovered;
    await raceUploadsAndDeletes(server);
    // Nor any metadata file beside an object (but the index marker's), or a stray temporary file.
    expect(await files(join(server.dataDir, '.meta'))).toEqual(['image-processor-input-bucket/index/ready.json']);
    expect(await files(join(server.dataDir, '.tmp'))).toEqual([]);
  });

  it(`on an S3-protocol server (${ROUNDS} rounds)`, async () => {
    const s3 = await startS3rver(BUCKETS);
    try {
      const server = await testServer({ CONCURRENCY: '2', STORAGE: 's3', S3_ENDPOINT: s3.endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_REGION: 'us-east-1' });
      await server.recovered;
      await raceUploadsAndDeletes(server);
    } finally {
      await s3.close();
    }
  });
});
