// `npm run bench -- --scale`: the catalogue's costs on a store of 1,000 images and of 100,000, in
// the same run, as ratios. The stores are filled through the storage port (no rendering): originals
// with their metadata, index entries, done manifests, as uploads and processing leave them.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig } from '../src/config/config.js';
import { ownerId } from '../src/http/auth.js';
import { keyDigest } from '../src/http/key-file.js';
import { reindex } from '../src/lifecycle/reindex.js';
import { INDEX_READY } from '../src/processing/keys.js';
import { sweepExpired } from '../src/lifecycle/retention.js';
import { originalKey, pendingKey } from '../src/processing/keys.js';
import { writeManifest } from '../src/processing/manifest.js';
import { openBuckets } from '../src/storage/backends.js';
import { inParallel } from '../src/processing/in-parallel.js';
import { storeImage, type StoredImage } from '../test/helpers/stored-images.js';

const HERE = import.meta.dirname;
const SECRET = 'scale-bench-owner-id-secret-0123456789';
const KEYS = { twenty: 'bench-key-twenty-images', none: 'bench-key-without-images', many: 'bench-key-with-most-images', old: 'bench-key-with-old-images' };
const ownerOf = (key: string) => ownerId(SECRET, keyDigest(key));
const DAY = 86_400_000;
const RETENTION_DAYS = 365;
/** Images past the retention, in groups of two, each group OLD_GROUP_DAYS older than the one before. */
const OLD_GROUPS = 5;
const OLD_GROUP_DAYS = 10;
/** Each measure is the median of this many requests, after a few to warm up. */
const SAMPLES = 21;
const DEEP_PAGE_LIMIT = 10;

interface Measures {
  firstPageOwnerWith20Ms: number;
  firstPageOwnerWithNoneMs: number;
  pageAfter50PagesMs: number;
  deleteMs: number;
  /** A restart after a clean stop: to a healthy /healthz, and to the end of the start-up scan. */
  startUpHealthyMs: number;
  startUpRecoveredMs: number;
  retentionSweepMs: number;
  /** A start with no clean-stop record (a crash): the scan also names every original and output folder. */
  startUpAfterCrashRecoveredMs: number;
  reindexMs: number;
}

/** Measures that read every image (or every name) by design: shown with their growth, held to no ratio. */
const LINEAR: ReadonlySet<keyof Measures> = new Set(['startUpAfterCrashRecoveredMs', 'reindexMs']);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The server's two buckets in `dataDir`, as it opens them. */
function bucketsOf(dataDir: string) {
  return openBuckets(loadConfig({ DATA_DIR: dataDir }), 'fs');
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/**
 * `images` images a minute apart: 20 of one key spread among the rest, 10 over a year old (what the sweeps
 * remove), 5 left unfinished by a crash, 2 dropped into originals/ by another tool, the rest of one
 * key; and a key with none.
 */
async function fill(dataDir: string, images: number): Promise<{ deletable: string[] }> {
  const { input, output } = bucketsOf(dataDir);
  const now = Date.now();
  const regular = images - 17;
  const twentyAt = new Set(Array.from({ length: 20 }, (_, k) => Math.floor(((k + 0.5) * regular) / 20)));
  const batch: StoredImage[] = Array.from({ length: regular }, (_, i) => ({
    id: `img-${String(i).padStart(7, '0')}`,
    uploadedAt: now - i * 60_000,
    owner: ownerOf(twentyAt.has(i) ? KEYS.twenty : KEYS.many),
  }));
  // Past the deep page, so that deleting them changes no page that is timed.
  const deletable = batch.slice(600).filter((image) => image.owner === ownerOf(KEYS.many)).slice(0, SAMPLES).map((image) => image.id);
  for (let i = 0; i < 2 * OLD_GROUPS; i++) {
    const group = Math.floor(i / 2);
    batch.push({ id: `old-${i}`, uploadedAt: now - (RETENTION_DAYS + (group + 1) * OLD_GROUP_DAYS) * DAY - i * 60_000, owner: ownerOf(KEYS.old) });
  }
  let done = 0;
  await inParallel(batch, 32, async (image) => {
    await storeImage(input, output, image);
    if (++done % 5000 === 0) process.stderr.write(`\r  ${done} of ${images} stored`);
  });
  process.stderr.write('\n');
  for (let i = 0; i < 5; i++) {
    const image = { id: `crashed-${i}`, uploadedAt: now - i * 1000, owner: ownerOf(KEYS.many), done: false };
    await storeImage(input, output, image);
    await input.put(pendingKey(image.id), Buffer.alloc(0));
    await writeManifest(output, { id: image.id, status: 'processing', original: { bytes: 1 }, variants: [], watermark: false, createdAt: new Date(image.uploadedAt).toISOString(), sourceEtag: 'interrupted' });
  }
  for (let i = 0; i < 2; i++) await input.put(originalKey(`dropped-${i}.jpg`), Buffer.from('not processed yet'));
  await input.put(INDEX_READY, Buffer.from('{}'));
  return { deletable };
}

interface Running {
  url: string;
  healthyMs: number;
  recoveredMs: number;
  stop(): Promise<void>;
}

/** `npm start`'s process on `dataDir`: the time to a healthy /healthz and to the end of its start-up scan. */
async function startServer(dataDir: string): Promise<Running> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [join(HERE, '../dist/runtime/local.mjs')], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), API_KEYS: Object.values(KEYS).join(','), OWNER_ID_SECRET: SECRET, LOG_LEVEL: 'info', MALLOC_ARENA_MAX: '2' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const recovered = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('start-up scan done')) resolve(performance.now() - started);
    });
    child.once('exit', (code) => reject(new Error(`the server stopped (${code})`)));
  });
  const url = `http://127.0.0.1:${port}`;
  let healthyMs: number | undefined;
  while (healthyMs === undefined) {
    const ok = await fetch(`${url}/healthz`).then((response) => response.ok, () => false);
    if (ok) healthyMs = performance.now() - started;
    else await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const recoveredMs = await recovered;
  return {
    url,
    healthyMs,
    recoveredMs,
    async stop() {
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function timed(request: () => Promise<Response>): Promise<number> {
  const started = performance.now();
  const response = await request();
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return performance.now() - started;
}

interface Store {
  images: number;
  dataDir: string;
  deletable: string[];
  server?: Running;
}

/** Runs `each` on the small store, then on the large one, `rounds` times: a slow spell of this machine hits both alike. */
async function interleaved<T>(stores: Store[], rounds: number, each: (store: Store, round: number) => Promise<T>): Promise<T[][]> {
  const results: T[][] = stores.map(() => []);
  for (let round = 0; round < rounds; round++) for (const [i, store] of stores.entries()) results[i]!.push(await each(store, round));
  return results;
}

const api = (store: Store, key: string, path: string, init: RequestInit = {}) => () => fetch(`${store.server!.url}${path}`, { ...init, headers: { 'x-api-key': key } });

/** The median time of a request on each store, asked of both in turn. */
async function requestTimes(stores: Store[], request: (store: Store) => () => Promise<Response>): Promise<number[]> {
  await interleaved(stores, 3, (store) => timed(request(store)));
  return (await interleaved(stores, SAMPLES, (store) => timed(request(store)))).map(median);
}

async function measureStores(stores: Store[]): Promise<Measures[]> {
  // Written back before anything is timed, so that no measure waits behind the fills' writes.
  execFileSync('sync');
  const crashStarts = await interleaved(stores, 1, async (store) => (store.server = await startServer(store.dataDir)).recoveredMs);
  const firstPageOwnerWith20Ms = await requestTimes(stores, (store) => api(store, KEYS.twenty, '/v1/images'));
  const firstPageOwnerWithNoneMs = await requestTimes(stores, (store) => api(store, KEYS.none, '/v1/images'));
  const cursors = new Map<Store, string | undefined>();
  for (const store of stores) {
    for (let page = 0; page < 50; page++) {
      const cursor = cursors.get(store);
      const body = (await (await api(store, KEYS.many, `/v1/images?limit=${DEEP_PAGE_LIMIT}${cursor ? `&cursor=${cursor}` : ''}`)()).json()) as { nextCursor?: string };
      cursors.set(store, body.nextCursor);
    }
  }
  const pageAfter50PagesMs = await requestTimes(stores, (store) => api(store, KEYS.many, `/v1/images?limit=${DEEP_PAGE_LIMIT}&cursor=${cursors.get(store)}`));
  const deleteMs = (await interleaved(stores, SAMPLES, (store) => timed(api(store, KEYS.many, `/v1/images/${store.deletable.pop()}`, { method: 'DELETE' })))).map(median);
  for (const store of stores) {
    await store.server!.stop();
    delete store.server;
  }

  const restarts = await interleaved(stores, 3, async (store) => {
    const restarted = await startServer(store.dataDir);
    await restarted.stop();
    return restarted;
  });
  // Each sweep expires the next of the old groups (two images), oldest first.
  const sweeps = await interleaved(stores, OLD_GROUPS, async (store, round) => {
    const { input, output } = bucketsOf(store.dataDir);
    // Group g is RETENTION_DAYS + (g + 1) * OLD_GROUP_DAYS old: this retention expires the oldest group left.
    const retentionDays = RETENTION_DAYS + (OLD_GROUPS - round - 0.5) * OLD_GROUP_DAYS;
    const started = performance.now();
    const removed = await sweepExpired(input, output, retentionDays, new Date());
    const ms = performance.now() - started;
    if (removed.length !== 2) throw new Error(`a sweep removed ${removed.length} images, not the 2 of its group`);
    return ms;
  });
  const reindexMs = await interleaved(stores, 1, async (store) => {
    const { input, output } = bucketsOf(store.dataDir);
    const started = performance.now();
    await reindex(input, output);
    return performance.now() - started;
  });
  return stores.map((_, i) => ({
    firstPageOwnerWith20Ms: firstPageOwnerWith20Ms[i]!,
    firstPageOwnerWithNoneMs: firstPageOwnerWithNoneMs[i]!,
    pageAfter50PagesMs: pageAfter50PagesMs[i]!,
    deleteMs: deleteMs[i]!,
    startUpHealthyMs: median(restarts[i]!.map((restart) => restart.healthyMs)),
    startUpRecoveredMs: median(restarts[i]!.map((restart) => restart.recoveredMs)),
    retentionSweepMs: median(sweeps[i]!),
    startUpAfterCrashRecoveredMs: crashStarts[i]![0]!,
    reindexMs: reindexMs[i]![0]!,
  }));
}

export async function scaleBench(quick: boolean, record = false): Promise<void> {
  const [small, large] = [1000, quick ? 20_000 : 100_000];
  const stores: Store[] = [];
  let measured: Measures[];
  try {
    for (const images of [small, large]) {
      const dataDir = await mkdtemp(join(tmpdir(), `scale-${images}-`));
      stores.push({ images, dataDir, deletable: [] });
      process.stderr.write(`filling a store of ${images} images…\n`);
      stores.at(-1)!.deletable = (await fill(dataDir, images)).deletable;
    }
    measured = await measureStores(stores);
  } finally {
    for (const store of stores) {
      await store.server?.stop().catch(() => undefined);
      await rm(store.dataDir, { recursive: true, force: true });
    }
  }
  const [atSmall, atLarge] = measured as [Measures, Measures];
  const names = Object.keys(atSmall) as (keyof Measures)[];
  console.log(`\n| measure | ${small} images | ${large} images | ratio | goal |\n|---|---:|---:|---:|---|`);
  const ratios: Record<string, number> = {};
  for (const name of names) {
    const ratio = atLarge[name] / atSmall[name];
    ratios[name] = ratio;
    console.log(`| ${name} | ${atSmall[name].toFixed(1)} | ${atLarge[name].toFixed(1)} | ${ratio.toFixed(2)} | ${LINEAR.has(name) ? 'grows with the store' : '<= 1.5'} |`);
  }
  const reindexSecondsPer100k = (atLarge.reindexMs / 1000) * (100_000 / large);
  console.log(`\nreindex: ${reindexSecondsPer100k.toFixed(0)} s per 100,000 images`);
  // Tracked results change only with --record; other runs write beside the photos, in bench/.cache.
  const out = join(record ? HERE : join(HERE, '.cache'), 'scale-results.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify({ date: new Date().toISOString(), images: [small, large], measures: { [small]: atSmall, [large]: atLarge }, ratios, reindexSecondsPer100k }, null, 2) + '\n');
  console.log(`wrote ${relative(process.cwd(), out)}`);
}
