import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../src/config/config.js';
import { watermarkFontFile } from '../src/imaging/font.js';
import { tuneSharp } from '../src/imaging/tuning.js';
import { originalKey } from '../src/processing/keys.js';
import { createGate, IN_FLIGHT_PER_RENDER_SLOT } from '../src/processing/gate.js';
import { createProcessor } from '../src/processing/processor.js';
import { createWorkQueue } from '../src/processing/work-queue.js';
import { openBuckets } from '../src/storage/backends.js';
import { call, download } from './client.js';
import type { S3Event } from 'aws-lambda';
import { restApiEvent, s3PutEvent, throughApiGateway } from '../test/helpers/aws-events.js';
import { countingProxy, type PassedRequest } from '../test/helpers/counting-proxy.js';
import { startS3rver } from '../test/helpers/s3rver.js';

const run = promisify(execFile);

/** The default workload: the three default variants, a watermark on the two large ones. */
export const VARIANTS = [
  { name: 'thumbnail', width: 150, height: 150, fit: 'cover' as const },
  { name: 'medium', width: 800, height: 800, fit: 'inside' as const },
  { name: 'large', width: 1600, height: 1600, fit: 'inside' as const },
];
/** The mark every workload stamps; BENCH_WATERMARK= (empty) measures the variants alone. */
export const WATERMARK = process.env.BENCH_WATERMARK ?? '© Benchmark';

export interface Measured {
  images: number;
  seconds: number;
  /** Per image, from its start to its last output. */
  latenciesMs: number[];
  peakRssBytes: number;
  extra?: Record<string, number>;
}

/** This process's peak resident set, as the kernel counted it. */
export async function peakRss(pid: number | 'self' = 'self'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Runs `work` on every input with `concurrency` in flight, timing each. */
async function timed<T>(inputs: T[], concurrency: number, work: (input: T) => Promise<void>): Promise<Pick<Measured, 'images' | 'seconds' | 'latenciesMs'>> {
  const queue = [...inputs];
  const latenciesMs: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let input = queue.shift(); input !== undefined; input = queue.shift()) {
        const t = performance.now();
        await work(input);
        latenciesMs.push(performance.now() - t);
      }
    }),
  );
  return { images: inputs.length, seconds: (performance.now() - started) / 1000, latenciesMs };
}

/** (a) sharp used directly, the naive way: one pipeline per variant, each decoding the original. */
export async function naiveSharp(files: string[], concurrency: number): Promise<Measured> {
  tuneSharp();
  const result = await timed(files, concurrency, async (file) => {
    const input = await readFile(file);
    for (const variant of VARIANTS) {
      let pipeline = sharp(input).autoOrient().resize(variant.width, variant.height, { fit: variant.fit, withoutEnlargement: true });
      if (WATERMARK && variant.width >= 300) {
        const mark = await sharp({
          text: { text: WATERMARK, font: `DejaVu Sans Bold ${Math.round(variant.width / 25)}`, fontfile: watermarkFontFile(), rgba: true, dpi: 72 },
        })
          .png()
          .toBuffer();
        pipeline = pipeline.composite([{ input: mark, gravity: 'southeast' }]);
      }
      await pipeline.jpeg({ quality: 80 }).toBuffer();
    }
  });
  return { ...result, peakRssBytes: await peakRss() };
}

/** (b) the processor in-process, on the fs store, through its work queue. */
export async function processor(files: string[], concurrency: number): Promise<Measured> {
  tuneSharp();
  const dir = await mkdtemp(join(tmpdir(), 'bench-processor-'));
  try {
    const config = loadConfig({ DATA_DIR: dir, WATERMARK_TEXT: WATERMARK, CONCURRENCY: String(concurrency) });
    const { input, output } = openBuckets(config, 'fs');
    const ids = await Promise.all(files.map(async (file, i) => {
      await input.put(originalKey(`bench-${i}`), await readFile(file));
      return `bench-${i}`;
    }));
    // Wired as the server wires it: `concurrency` renders at once, more images in flight around them.
    const work = createProcessor({ input, output, config, renderGate: createGate(concurrency) });
    const latenciesMs: number[] = [];
    const started = performance.now();
    const queue = createWorkQueue(concurrency * IN_FLIGHT_PER_RENDER_SLOT, async (id) => {
      const t = performance.now();
      const outcome = await work.process(id);
      if (outcome.status !== 'done') throw new Error(`${id}: ${JSON.stringify(outcome)}`);
      latenciesMs.push(performance.now() - t);
    });
    ids.forEach((id) => queue.enqueue(id));
    await queue.idle();
    return { images: ids.length, seconds: (performance.now() - started) / 1000, latenciesMs, peakRssBytes: await peakRss() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An identical re-upload against the first: the second reuses the first's outputs. */
export async function dedup(file: string): Promise<Measured> {
  tuneSharp();
  const dir = await mkdtemp(join(tmpdir(), 'bench-dedup-'));
  try {
    const config = loadConfig({ DATA_DIR: dir, WATERMARK_TEXT: WATERMARK });
    const { input, output } = openBuckets(config, 'fs');
    const work = createProcessor({ input, output, config });
    const bytes = await readFile(file);
    const latenciesMs: number[] = [];
    for (const id of ['first', 'again']) {
      await input.put(originalKey(id), bytes);
      const t = performance.now();
      await work.process(id);
      latenciesMs.push(performance.now() - t);
    }
    return { images: 2, seconds: 0, latenciesMs, peakRssBytes: await peakRss(), extra: { dedupSpeedup: latenciesMs[0]! / latenciesMs[1]! } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A log line of the server's that says where an image's time went: an upload's request, or its processing. */
export interface StageLine {
  id: string;
  msg: string;
  stages: Record<string, number>;
}

export interface BenchServer {
  url: string;
  pid: number;
  /** The server's log lines with stage timings, as they came. */
  stageLines: StageLine[];
  stop: () => Promise<void>;
}

/** Starts the built server in its own process; resolves with its URL and pid. */
export function startServer(dataDir: string, concurrency: number, env: Record<string, string> = {}): Promise<BenchServer> {
  // BENCH_SERVER_ARGS passes node flags to the server, e.g. --cpu-prof to profile it.
  const nodeArgs = process.env.BENCH_SERVER_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, join(import.meta.dirname, '../dist/runtime/local.mjs')], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', CONCURRENCY: String(concurrency), WATERMARK_TEXT: WATERMARK, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', MALLOC_ARENA_MAX: '2', UV_THREADPOOL_SIZE: '8', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stageLines: StageLine[] = [];
  return new Promise((resolve, reject) => {
    let started = false;
    let partial = '';
    // Every line is read (so the server's stdout never blocks); those with stage timings are kept.
    child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const url = started ? undefined : /"url":"([^"]+)"/.exec(line)?.[1];
        if (url) {
          started = true;
          // Stopped and waited for: a clean stop still writes to the data folder, which is removed next.
          const exited = new Promise<void>((done) => child.once('exit', () => done()));
          // A stop that hangs (a request still held) is ended after 30 s, so a failed run still ends.
          const stop = () => (child.kill('SIGTERM'), setTimeout(() => child.kill('SIGKILL'), 30_000).unref(), exited);
          resolve({ url, pid: child.pid!, stageLines, stop });
        }
        if (line.includes('"stages"')) {
          const { id, msg, stages } = JSON.parse(line) as StageLine;
          stageLines.push({ id, msg, stages });
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

/** POST /v1/images as a client would; `uploaded` is when the server had acknowledged the whole upload. */
async function upload(url: string, body: Buffer): Promise<{ id: string; uploaded: number }> {
  const answer = await call(`${url}/v1/images`, 'POST', body, 'image/jpeg');
  if (answer.status !== 202) throw new Error(`upload answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return { id: answer.body.id as string, uploaded: performance.now() };
}

/** Longer than any image here takes: past it the workload fails instead of asking for ever. */
const GIVE_UP_MS = 120_000;

/** Follows an image to done as the page does: `?wait=20`, asked again until it has ended. */
async function waitDone(url: string, id: string): Promise<{ completedAt: string }> {
  for (const until = Date.now() + GIVE_UP_MS; Date.now() < until; ) {
    const image = (await call(`${url}/v1/images/${id}?wait=20`)).body as { status: string; completedAt: string; error?: unknown };
    if (image.status === 'done') return image;
    if (image.status === 'failed') throw new Error(`${id} failed: ${JSON.stringify(image.error)}`);
  }
  throw new Error(`${id} was not done after ${GIVE_UP_MS} ms`);
}

/** Each photo uploaded and followed to done before the next: the time of each, and of them all. */
async function oneAtATime(url: string, files: string[]): Promise<{ latenciesMs: number[]; seconds: number }> {
  const latenciesMs: number[] = [];
  const started = performance.now();
  for (const file of files) {
    const began = performance.now();
    const { id } = await upload(url, await readFile(file));
    await waitDone(url, id);
    latenciesMs.push(performance.now() - began);
  }
  return { latenciesMs, seconds: (performance.now() - started) / 1000 };
}

/**
 * Where each image's time went on the HTTP path, the median of every image per stage: the upload's
 * (receive and spool, store the original and its records) and the processing's from the server's
 * log, and `statusSeen`, from the manifest's completion to the client's answer.
 */
function stageMedians(lines: StageLine[], seenMs: number[]): Record<string, number> {
  const byStage = new Map<string, number[]>();
  for (const line of lines) for (const [stage, ms] of Object.entries(line.stages)) byStage.set(stage, [...(byStage.get(stage) ?? []), ms]);
  byStage.set('statusSeen', seenMs);
  return Object.fromEntries([...byStage].map(([stage, values]) => [`stage.${stage}`, median(values)]));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] ?? 0;

/** (c) the whole HTTP path: many clients upload at once; each image is timed from upload start to done. */
export async function http(files: string[], concurrency: number, clients: number): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-http-'));
  const server = await startServer(dir, concurrency);
  try {
    const bodies = await Promise.all(files.map((file) => readFile(file)));
    const seenMs: number[] = [];
    const result = await timed(bodies, clients, async (body) => {
      const { id } = await upload(server.url, body);
      const { completedAt } = await waitDone(server.url, id);
      seenMs.push(Date.now() - Date.parse(completedAt));
    });
    return { ...result, peakRssBytes: await peakRss(server.pid), extra: stageMedians(server.stageLines, seenMs) };
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Upload complete to done, one photo at a time on an idle server, against the processing time the manifest records. */
export async function uploadToDone(files: string[]): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-latency-'));
  const server = await startServer(dir, 2);
  try {
    const ratios: number[] = [];
    const latenciesMs: number[] = [];
    for (const file of files) {
      const { id, uploaded } = await upload(server.url, await readFile(file));
      await waitDone(server.url, id);
      const total = performance.now() - uploaded;
      const manifest = JSON.parse(await readFile(join(dir, 'image-processor-output-bucket', id, 'manifest.json'), 'utf8')) as { startedAt: string; completedAt: string };
      const processing = Date.parse(manifest.completedAt) - Date.parse(manifest.startedAt);
      latenciesMs.push(total);
      ratios.push(total / processing);
    }
    return { images: files.length, seconds: latenciesMs.reduce((a, b) => a + b, 0) / 1000, latenciesMs, peakRssBytes: await peakRss(server.pid), extra: { uploadToDoneOverProcessing: Math.min(...ratios) } };
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** What a storage request touched, by its key: the original, index entries, a marker, a record, a manifest, a variant, a listing. */
function requestKind(url: string): string {
  if (url.includes('list-type=')) return 'listing';
  const path = decodeURIComponent(url.split('?')[0]!);
  const kinds: Array<[RegExp, string]> = [
    [/\/originals\//, 'original'],
    [/\/index\//, 'index'],
    [/\/pending\//, 'pending'],
    [/\/dedup\//, 'dedup'],
    [/\/idempotency\//, 'idempotency'],
    [/\/manifest\.json$/, 'manifest'],
  ];
  return kinds.find(([pattern]) => pattern.test(path))?.[1] ?? 'variant';
}

/**
 * Requests per image, by phase (upload, processing, status) or by kind of object, split into writes
 * (PUT, POST, DELETE and copies) and reads (GET, HEAD and listings): `s3.<phase or kind>.<writes|reads>`.
 */
function requestsPerImage(phases: Array<{ phase: string; requests: PassedRequest[] }>, images: number): Record<string, number> {
  const out: Record<string, number> = { s3WritesPerImage: 0, s3ReadsPerImage: 0 };
  const add = (key: string, n: number) => (out[key] = (out[key] ?? 0) + n / images);
  for (const { phase, requests } of phases) {
    for (const request of requests) {
      const kind = request.method === 'GET' || request.method === 'HEAD' ? 'reads' : 'writes';
      add(kind === 'reads' ? 's3ReadsPerImage' : 's3WritesPerImage', 1);
      add(`s3.${phase}.${kind}`, 1);
      add(`s3.${requestKind(request.url)}.${kind}`, 1);
    }
  }
  return out;
}

const S3_CREDENTIALS = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

/**
 * Storage requests per processed image with the local server on S3: the built server on an
 * S3-protocol server (s3rver) behind a counting proxy; each photo is uploaded and followed to done
 * with `?wait=20`, one at a time, and every request the server makes in between is counted.
 */
export async function s3Requests(files: string[]): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-s3-'));
  const buckets = ['bench-input', 'bench-output'];
  const s3 = await startS3rver(buckets);
  const proxy = await countingProxy(s3.endpoint);
  const server = await startServer(dir, 2, { STORAGE: 's3', S3_ENDPOINT: proxy.endpoint, S3_FORCE_PATH_STYLE: 'true', INPUT_BUCKET: buckets[0]!, OUTPUT_BUCKET: buckets[1]!, ...S3_CREDENTIALS });
  try {
    // The start-up scan's requests are not an image's.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const before = proxy.requests.length;
    const { latenciesMs, seconds } = await oneAtATime(server.url, files);
    // The held status request's own reads are counted in.
    const extra = requestsPerImage([{ phase: 'all', requests: proxy.requests.slice(before) }], files.length);
    return { images: files.length, seconds, latenciesMs, peakRssBytes: await peakRss(server.pid), extra };
  } finally {
    await server.stop();
    await proxy.close();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Storage requests per processed image on AWS: the built Lambda bundles (the API behind API
 * Gateway's limits, the processor given S3's event) in this process, on s3rver behind a counting
 * proxy. Each photo is uploaded (POST /v1/images), processed from its ObjectCreated event, and its
 * status read once, as the page's held request finds it done; each phase's requests are counted.
 */
export async function awsRequests(files: string[]): Promise<Measured> {
  const buckets = ['bench-input', 'bench-output'];
  const s3 = await startS3rver(buckets);
  const proxy = await countingProxy(s3.endpoint);
  Object.assign(process.env, S3_CREDENTIALS, {
    INPUT_BUCKET: buckets[0],
    OUTPUT_BUCKET: buckets[1],
    S3_ENDPOINT: proxy.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    WATERMARK_TEXT: WATERMARK,
    URL_SIGNING_SECRET: 'a-bench-url-signing-secret-of-32-chars',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  try {
    const bundle = (name: string) => join(import.meta.dirname, `../dist/lambda/${name}.mjs`);
    const api = throughApiGateway(((await import(bundle('api'))) as { handler: Parameters<typeof throughApiGateway>[0] }).handler);
    const processor = ((await import(bundle('processor'))) as { handler: (event: S3Event) => Promise<void> }).handler;
    const phases = { upload: [] as PassedRequest[], processing: [] as PassedRequest[], status: [] as PassedRequest[] };
    const counted = async <T>(phase: keyof typeof phases, work: () => Promise<T>): Promise<T> => {
      const before = proxy.requests.length;
      const result = await work();
      phases[phase].push(...proxy.requests.slice(before));
      return result;
    };
    const latenciesMs: number[] = [];
    const started = performance.now();
    for (const file of files) {
      const began = performance.now();
      const body = await readFile(file);
      const accepted = await counted('upload', () => api(restApiEvent('POST', '/v1/images', { body, headers: { 'content-type': 'image/jpeg' } })));
      if (accepted.statusCode !== 202) throw new Error(`upload answered ${accepted.statusCode}: ${accepted.body}`);
      const { id } = JSON.parse(accepted.body) as { id: string };
      await counted('processing', () => processor(s3PutEvent(buckets[0]!, originalKey(id), body.length)));
      const status = await counted('status', () => api(restApiEvent('GET', `/v1/images/${id}`)));
      if ((JSON.parse(status.body) as { status: string }).status !== 'done') throw new Error(`${id}: ${status.body}`);
      latenciesMs.push(performance.now() - began);
    }
    const seconds = (performance.now() - started) / 1000;
    const extra = requestsPerImage(Object.entries(phases).map(([phase, requests]) => ({ phase, requests })), files.length);
    return { images: files.length, seconds, latenciesMs, peakRssBytes: await peakRss(), extra };
  } finally {
    await proxy.close();
    await s3.close();
  }
}

/** (d) ImageMagick's `convert`, one process per variant, `concurrency` images at once. */
export async function imagemagick(files: string[], concurrency: number): Promise<Measured> {
  const out = await mkdtemp(join(tmpdir(), 'bench-magick-'));
  let peak = 0;
  try {
    const result = await timed(files, concurrency, async (file) => {
      for (const variant of VARIANTS) {
        const geometry = `${variant.width}x${variant.height}`;
        const args = [file, '-auto-orient', '-strip', '-resize', variant.fit === 'cover' ? `${geometry}^>` : `${geometry}>`];
        if (variant.fit === 'cover') args.push('-gravity', 'center', '-extent', geometry);
        if (WATERMARK && variant.width >= 300) args.push('-gravity', 'southeast', '-font', watermarkFontFile(), '-pointsize', String(Math.round(variant.width / 25)), '-fill', 'rgba(255,255,255,0.5)', '-annotate', '+10+10', WATERMARK);
        args.push('-quality', '80', join(out, `${variant.name}-${Math.random()}.jpg`));
        const child = spawn('/usr/bin/convert', args);
        const sampler = setInterval(() => void peakRss(child.pid!).then((rss) => (peak = Math.max(peak, rss)), () => undefined), 20);
        await new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve(code) : reject(new Error(`convert exited ${code}`)))));
        clearInterval(sampler);
      }
    });
    return { ...result, peakRssBytes: peak };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

export async function hasImageMagick(): Promise<boolean> {
  try {
    const { stdout } = await run('/usr/bin/convert', ['-version']);
    return stdout.includes('ImageMagick');
  } catch {
    return false;
  }
}

/** (d) jimp, pure JavaScript, the same three variants; the watermark is left out (jimp has no TrueType text). */
export async function jimp(files: string[], concurrency: number): Promise<Measured> {
  const { Jimp } = await import('jimp');
  const result = await timed(files, concurrency, async (file) => {
    const original = await Jimp.read(file);
    for (const variant of VARIANTS) {
      const image = original.clone();
      if (variant.fit === 'cover') image.cover({ w: Math.min(variant.width, image.width), h: Math.min(variant.height, image.height) });
      else image.scaleToFit({ w: Math.min(variant.width, image.width), h: Math.min(variant.height, image.height) });
      await image.getBuffer('image/jpeg', { quality: 80 });
    }
  });
  return { ...result, peakRssBytes: await peakRss() };
}

/** Import time of the processor Lambda bundle in a fresh process: a proxy for its cold start. */
export async function coldStart(): Promise<Measured> {
  const bundle = join(import.meta.dirname, '../dist/lambda/processor.mjs');
  const script = `const t = performance.now(); await import(${JSON.stringify(bundle)}); console.log(performance.now() - t);`;
  const latenciesMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, AWS_REGION: 'us-east-1', NODE_NO_WARNINGS: '1' } });
    latenciesMs.push(Number(stdout.trim().split('\n').pop()));
  }
  return { images: 0, seconds: 0, latenciesMs, peakRssBytes: 0 };
}

/** Whether Debian's native HEIC converter is here (libheif-examples): the reference for HEIC. */
export async function hasHeifConvert(): Promise<boolean> {
  return run('heif-convert', ['--version']).then(
    () => true,
    (error: { code?: string }) => error.code !== 'ENOENT',
  );
}

/** (e) `heif-convert` writing a JPEG of each HEIC, one at a time, its peak memory as `time` counts it. */
export async function heifConvert(files: string[]): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-heif-'));
  let peakRssBytes = 0;
  try {
    const result = await timed(files, 1, async (file) => {
      const { stderr } = await run('/usr/bin/time', ['-f', 'maxrss_kb=%M', 'heif-convert', '-q', '90', file, join(dir, 'out.jpg')]);
      peakRssBytes = Math.max(peakRssBytes, Number(/maxrss_kb=(\d+)/.exec(stderr)?.[1] ?? 0) * 1024);
    });
    return { ...result, peakRssBytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * (f) The server while hostile and heavy uploads go through it: a client polls /healthz every
 * 20 ms and keeps its longest wait; the server's own event-loop lag is read from /metrics
 * (prom-client resets it at each scrape, so one scrape before and one after frame the run).
 */
export async function eventLoop(files: string[]): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-loop-'));
  const server = await startServer(dir, availableParallelism(), { ALLOW_SVG: 'true' });
  try {
    await (await fetch(`${server.url}/metrics`)).text();
    let polling = true;
    let longestWaitMs = 0;
    const poller = (async () => {
      while (polling) {
        const started = performance.now();
        await (await fetch(`${server.url}/healthz`)).arrayBuffer();
        longestWaitMs = Math.max(longestWaitMs, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const result = await timed(files, 1, async (file) => {
      const response = await fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(await readFile(file)), headers: { 'content-type': 'application/octet-stream' } });
      const body = (await response.json()) as { id?: string };
      if (response.status === 202 && body.id) await waitDone(server.url, body.id);
    });
    polling = false;
    await poller;
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const lagSeconds = Number(/^nodejs_eventloop_lag_max_seconds (\S+)/m.exec(metrics)?.[1] ?? NaN);
    return { ...result, peakRssBytes: await peakRss(server.pid), extra: { longestHealthzWaitMs: longestWaitMs, maxEventLoopLagMs: lagSeconds * 1000 } };
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The widths the on-demand workloads ask for, as a srcset might. */
export const RENDER_WIDTHS = [320, 640, 960, 1280, 1920];

/** GETs every URL with `clients` in flight, in order, reading each body whole; the time of each. */
async function fetchAll(urls: string[], clients: number): Promise<Pick<Measured, 'images' | 'seconds' | 'latenciesMs'>> {
  return timed(urls, clients, async (url) => {
    const { status } = await download(url);
    if (status !== 200) throw new Error(`${url} answered ${status}`);
  });
}

/**
 * (g) On-demand renders through the server: each photo uploaded and done first (untimed), then
 * every width of every photo as WebP, photo by photo with `clients` in flight: first requests (each
 * made now), then the same again (stored). No watermark, as ipx makes none; intermediates kept.
 */
export async function onDemand(files: string[], clients: number): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-renders-'));
  // Configured as a deployment that serves many on-demand renders is (README: ONDEMAND_INTERMEDIATE).
  const server = await startServer(dir, availableParallelism(), { WATERMARK_TEXT: '', OUTPUT_FORMAT: 'webp', ONDEMAND_INTERMEDIATE: 'true', ...(process.env.BENCH_ONDEMAND_CONCURRENCY ? { ONDEMAND_CONCURRENCY: process.env.BENCH_ONDEMAND_CONCURRENCY } : {}) });
  try {
    const urls: string[] = [];
    for (const file of files) {
      const { id } = await upload(server.url, await readFile(file));
      await waitDone(server.url, id);
      const image = (await call(`${server.url}/v1/images/${id}?renderWidths=${RENDER_WIDTHS.join(',')}`)).body as { renders: Array<{ url: string }> };
      urls.push(...image.renders.map((render) => new URL(render.url, server.url).href));
    }
    const first = await fetchAll(urls, clients);
    const again = await fetchAll(urls, clients);
    return { ...first, peakRssBytes: await peakRss(server.pid), extra: { repeatedSeconds: again.seconds } };
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** (g) ipx (unjs, sharp 0.34) serving the same photos from a folder, the same widths as WebP: it renders every request. */
export async function ipx(files: string[], clients: number): Promise<Measured> {
  const { createIPX, createIPXNodeServer, ipxFSStorage } = await import('ipx');
  const { createServer } = await import('node:http');
  const dir = dirname(files[0]!);
  const server = createServer(createIPXNodeServer(createIPX({ storage: ipxFSStorage({ dir }) })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const urls = files.flatMap((file) => RENDER_WIDTHS.map((width) => `${base}/w_${width},f_webp/${basename(file)}`));
    const first = await fetchAll(urls, clients);
    const again = await fetchAll(urls, clients);
    return { ...first, peakRssBytes: await peakRss(), extra: { repeatedSeconds: again.seconds } };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The syscalls `fsCalls` counts, and the group each is reported in. */
const TRACED: Record<string, string> = { fsync: 'fsync', fdatasync: 'fsync', openat: 'open', rename: 'rename', renameat2: 'rename', mkdir: 'mkdir', mkdirat: 'mkdir', unlink: 'unlink', unlinkat: 'unlink', rmdir: 'unlink', statx: 'stat', newfstatat: 'stat', lstat: 'stat', stat: 'stat' };

/** What a path in the data folder is: an upload being spooled, a temporary file, an object or folder by kind, or a metadata file. */
function pathKind(path: string, dir: string): string | undefined {
  if (!path.startsWith(dir)) return undefined;
  const rest = path.slice(dir.length + 1);
  if (rest.startsWith('.tmp/uploads')) return 'spool';
  if (rest.startsWith('.tmp')) return 'temporary file';
  const meta = rest.startsWith('.meta/');
  const [bucket = '', first, ...more] = (meta ? rest.slice('.meta/'.length) : rest).split('/');
  const kind = !first
    ? 'bucket folder'
    : bucket.includes('input')
      ? (first === 'originals' ? 'original' : first)
      : more.length === 0
        ? 'image folder'
        : more[0] === 'manifest.json'
          ? 'manifest'
          : more[0] === 'renders'
            ? 'render'
            : 'variant';
  return meta ? `metadata (${kind})` : kind;
}

/**
 * System calls per processed image on the fs store, by the object they touch: the built server
 * under `strace -f -y` while 0.3 MP photos are uploaded and followed to done one at a time.
 * `fs.<kind>.<group>` per image; only where strace is installed.
 */
export async function fsCalls(files: string[]): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-fs-'));
  const trace = join(dir, '..', `${basename(dir)}.strace`);
  const server = await startServer(dir, 2);
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const tracer = spawn('strace', ['-f', '-y', '-qq', '-e', `trace=${Object.keys(TRACED).join(',')}`, '-o', trace, '-p', String(server.pid)], { stdio: 'ignore' });
    // strace attaches to every thread before the first upload.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { latenciesMs, seconds } = await oneAtATime(server.url, files);
    tracer.kill('SIGINT');
    await new Promise((resolve) => tracer.once('exit', resolve));
    const extra: Record<string, number> = {};
    for (const line of (await readFile(trace, 'utf8')).split('\n')) {
      const call = /^\d+\s+(\w+)\(/.exec(line)?.[1];
      const group = call && TRACED[call];
      if (!group) continue;
      // The last path in the line: a rename's target, an fd's file (strace -y prints it in <>), or the path argument.
      const paths = [...line.matchAll(/[<"](\/[^>"]+)[>"]/g)].map((match) => match[1]!);
      const kind = pathKind(paths.at(-1) ?? '', dir);
      if (!kind) continue;
      extra[`fs.${kind}.${group}`] = (extra[`fs.${kind}.${group}`] ?? 0) + 1 / files.length;
    }
    return { images: files.length, seconds, latenciesMs, peakRssBytes: await peakRss(server.pid), extra };
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(trace, { force: true });
  }
}

/** Whether strace is here (the fs system-call counts need it). */
export async function hasStrace(): Promise<boolean> {
  return run('strace', ['-V']).then(
    () => true,
    () => false,
  );
}
