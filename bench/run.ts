// `npm run bench`: every workload in its own process on the same photos, then a table, results.json
// and chart.svg. Ratios compare workloads of this one run, never numbers from another machine.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { chart, COMPARED } from './chart.js';
import { makePhoto } from './photos.js';
import { scaleBench } from './scale.js';
import { writeBmp } from '../test/helpers/bmp-writer.js';
import { heicGrid } from '../test/helpers/heic-grid.js';
import { hasHeifConvert, hasImageMagick, hasStrace, type Measured } from './workloads.js';

const run = promisify(execFile);
const HERE = import.meta.dirname;
const CACHE = join(HERE, '.cache');
const cores = availableParallelism();
const CLEAN_GRAIN = 12;
const quick = process.argv.includes('--quick');
const record = process.argv.includes('--record');
if (process.argv.includes('--scale')) {
  await scaleBench(quick, process.argv.includes('--record'));
  process.exit(0);
}

/** The photos, made once and kept in bench/.cache: the same bytes on every machine and run. */
async function photo(width: number, height: number, seed: number, grain = 60): Promise<string> {
  const path = join(CACHE, `photo-${width}x${height}-${seed}-grain${grain}.jpg`);
  if (!existsSync(path)) await writeFile(path, await makePhoto(width, height, seed, { grain }));
  return path;
}

async function measure(name: string, args: unknown[]): Promise<Measured> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(HERE, 'worker.ts'), name, JSON.stringify(args)], {
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2', NODE_NO_WARNINGS: '1' },
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${name} printed no result:\n${stdout}`);
  return JSON.parse(line.slice('RESULT '.length)) as Measured;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

interface Row {
  id: string;
  label: string;
  result: Measured;
  imagesPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  peakRssMb: number;
  /** Images per second of every run of this workload, fastest first. */
  runsImagesPerSecond: number[];
}

await mkdir(CACHE, { recursive: true });
// Every photo distinct: identical bytes would be deduplicated, and measure a copy instead of a render.
const count = quick ? 4 : 12;
const twelve: string[] = [];
for (let i = 0; i < count; i++) twelve.push(await photo(4000, 3000, i + 1));
// The same scenes with little grain: a clean daylight shot, where decoding is cheaper and the
// pipeline around it weighs more.
const clean: string[] = [];
for (let i = 0; i < count; i++) clean.push(await photo(4000, 3000, i + 1, CLEAN_GRAIN));
const fifty = await photo(8160, 6120, 99);
const small: string[] = [];
for (let i = 0; i < 40; i++) small.push(await photo(640, 480, 100 + i));
// Camera photos from 0.3 to 24 MP, as a phone's and a camera's gallery mix them, uploaded at once.
const MIXED_SIZES = [[640, 480], [1280, 960], [1600, 1200], [2048, 1536], [3000, 2000], [3264, 2448], [4000, 3000], [4608, 3456], [5184, 3888], [6000, 4000]] as const;
const mixed: string[] = [];
for (const [i, [width, height]] of MIXED_SIZES.entries()) mixed.push(await photo(width, height, 200 + i));

/** A file made once and kept in bench/.cache. */
async function cached(name: string, make: () => Buffer | Promise<Buffer>): Promise<string> {
  const path = join(CACHE, name);
  if (!existsSync(path)) await writeFile(path, await make());
  return path;
}
// A 12 MP HEIC as phones store them: a grid of 512x512 HEVC tiles (see test/helpers/heic-grid.ts).
const heic12 = await cached('heic-4032x3024.heic', async () => heicGrid(await readFile(join(HERE, '../test/fixtures/tile512.heic')), 4032, 3024));
// The uploads that froze the server when BMP, HEIC and SVG were decoded on its event loop.
const hostile = [
  await cached('bmp-rle8-says-10000x10000.bmp', () => {
    const file = writeBmp({ width: 1, height: 1, header: 'info', bits: 8, compression: 'rle8', palette: [[0, 0, 0]], pixels: [0] });
    file.writeInt32LE(10_000, 18);
    file.writeInt32LE(10_000, 22);
    return file;
  }),
  await cached('bmp-rle8-end-of-line-flood.bmp', () => {
    const file = writeBmp({ width: 1000, height: 1000, header: 'info', bits: 8, compression: 'rle8', palette: [[0, 0, 0], [255, 255, 255]], pixels: new Array(1_000_000).fill(1) });
    const start = file.readUInt32LE(10);
    return Buffer.concat([file.subarray(0, start), Buffer.alloc(10 * 1024 * 1024)]);
  }),
  await cached('svg-holding-a-4000x4000-png.svg', async () => {
    const png = (await sharp({ create: { width: 4000, height: 4000, channels: 3, background: '#3366aa' } }).png().toBuffer()).toString('base64');
    return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><image href="data:image/png;base64,${png}" width="100" height="100"/></svg>`);
  }),
  heic12,
];

const plan: Array<{ id: string; label: string; workload: string; args: unknown[] }> = [
  { id: 'naive', label: `(a) sharp, naive, ${cores} in flight`, workload: 'naiveSharp', args: [twelve, cores] },
  { id: 'processor', label: `(b) processor in-process, CONCURRENCY=${cores}`, workload: 'processor', args: [twelve, cores] },
  { id: 'http', label: `(c) HTTP upload to done, 8 clients, CONCURRENCY=${cores}`, workload: 'http', args: [twelve, cores, 8] },
  { id: 'naiveClean', label: `(a) sharp, naive, clean 12 MP photos`, workload: 'naiveSharp', args: [clean, cores] },
  { id: 'httpClean', label: `(c) HTTP, clean 12 MP photos`, workload: 'http', args: [clean, cores, 8] },
  { id: 'naiveMixed', label: '(a) sharp, naive, 10 photos of 0.3 to 24 MP', workload: 'naiveSharp', args: [mixed, cores] },
  { id: 'httpMixed', label: '(c) HTTP, the same 10 photos uploaded at once (10 clients)', workload: 'http', args: [mixed, cores, mixed.length] },
  { id: 'naiveSmall', label: '(a) sharp, naive, 40 photos of 0.3 MP', workload: 'naiveSharp', args: [small, cores] },
  { id: 'httpSmall', label: '(c) HTTP, the same 40 photos, 6 clients', workload: 'http', args: [small, cores, 6] },
  { id: 'small', label: '(b) processor, 0.3 MP photos', workload: 'processor', args: [small.slice(0, 24), cores] },
  { id: 'big', label: '(b) processor, one 50 MP photo, CONCURRENCY=1', workload: 'processor', args: [[fifty], 1] },
  { id: 'latency', label: '(c) one 12 MP photo at a time on an idle server', workload: 'uploadToDone', args: [twelve.slice(0, 3)] },
  { id: 'coldstart', label: 'import of dist/lambda/processor.mjs', workload: 'coldStart', args: [] },
  { id: 'dedup', label: '(b) identical 12 MP re-upload (first, then again)', workload: 'dedup', args: [twelve[0]] },
  { id: 's3', label: '(c) 0.3 MP photos one at a time, the server on S3 (s3rver) through a counting proxy', workload: 's3Requests', args: [small.slice(0, quick ? 4 : 12)] },
  { id: 'aws', label: '(c) the same on AWS: the Lambda bundles (API, processor) on s3rver through a counting proxy', workload: 'awsRequests', args: [small.slice(0, quick ? 4 : 12)] },
];
if (await hasStrace()) plan.push({ id: 'fs', label: '(c) 0.3 MP photos one at a time on the fs store, its system calls counted (strace)', workload: 'fsCalls', args: [small.slice(0, quick ? 4 : 12)] });
plan.push(
  { id: 'renders', label: `(g) on-demand renders, ${Math.min(10, count)} photos x 5 widths as WebP, 2 clients (first requests; repeated in extra)`, workload: 'onDemand', args: [twelve.slice(0, 10), 2] },
  { id: 'ipx', label: '(g) ipx 3.1 (sharp 0.34), the same photos, widths and format', workload: 'ipx', args: [twelve.slice(0, 10), 2] },
);
if (await hasImageMagick()) plan.push({ id: 'magick', label: `(d) ImageMagick convert, ${cores} in flight`, workload: 'imagemagick', args: [twelve, cores] });
plan.push({ id: 'jimp', label: '(d) jimp, 1 in flight (no watermark)', workload: 'jimp', args: [twelve.slice(0, 2), 1] });
plan.push({ id: 'heic', label: '(b) processor, one 12 MP HEIC, CONCURRENCY=1', workload: 'processor', args: [[heic12], 1] });
if (await hasHeifConvert()) plan.push({ id: 'heifConvert', label: '(e) heif-convert, the same HEIC to a JPEG', workload: 'heifConvert', args: [[heic12]] });
plan.push({ id: 'eventLoop', label: '(f) hostile BMP and SVG uploads and a 12 MP HEIC, /healthz every 20 ms', workload: 'eventLoop', args: [hostile] });

// The throughput workloads run ROUNDS times, interleaved (a, b, c, a, b, c, ...) so that a slow
// spell of this shared machine hits each of them alike; each row is its median run.
const ROUNDS = quick ? 1 : 3;
const REPEATED = new Set(['naive', 'processor', 'http', 'naiveClean', 'httpClean', 'naiveMixed', 'httpMixed', 'naiveSmall', 'httpSmall']);
const runs = new Map<string, Measured[]>();
for (let round = 1; round <= ROUNDS; round++) {
  for (const step of plan) {
    if (round > 1 && !REPEATED.has(step.id)) continue;
    process.stderr.write(`${step.label}${REPEATED.has(step.id) ? ` (round ${round} of ${ROUNDS})` : ''}…\n`);
    runs.set(step.id, [...(runs.get(step.id) ?? []), await measure(step.workload, step.args)]);
  }
}
const rows: Row[] = plan.map((step) => {
  const measured = [...runs.get(step.id)!].sort((a, b) => a.seconds - b.seconds);
  const result = measured[Math.floor((measured.length - 1) / 2)]!;
  return {
    id: step.id,
    label: step.label,
    result,
    imagesPerSecond: result.seconds > 0 ? result.images / result.seconds : 0,
    p50Ms: percentile(result.latenciesMs, 50),
    p95Ms: percentile(result.latenciesMs, 95),
    peakRssMb: result.peakRssBytes / 1024 / 1024,
    runsImagesPerSecond: measured.map((run) => (run.seconds > 0 ? run.images / run.seconds : 0)),
  };
});

const byId = (id: string) => rows.find((row) => row.id === id);
const ratio = (a: string, b: string) => {
  const x = byId(a)?.imagesPerSecond;
  const y = byId(b)?.imagesPerSecond;
  return x && y ? x / y : undefined;
};
/** A goal as `op bound`: met when the measured value compares so; a target not measured is missed. */
type Goal = ['>=' | '>' | '<=' | '<', number];
const target = (value: number | undefined, goal: Goal) => {
  const [op, bound] = goal;
  const met = value !== undefined && (op === '>=' ? value >= bound : op === '>' ? value > bound : op === '<=' ? value <= bound : value < bound);
  return { value, goal: `${op} ${bound}`, met };
};
// The HTTP path against sharp used naively, and against the in-process processor (issue 19's targets).
const targets = {
  httpOverNaive: target(ratio('http', 'naive'), ['>=', 1.3]),
  httpOverNaiveCleanPhotos: target(ratio('httpClean', 'naiveClean'), ['>=', 1.3]),
  httpOverNaiveMixedPhotos: target(ratio('httpMixed', 'naiveMixed'), ['>=', 1.3]),
  httpOverNaiveSmallPhotos: target(ratio('httpSmall', 'naiveSmall'), ['>=', 1.0]),
  httpOverProcessor: target(ratio('http', 'processor'), ['>=', 0.85]),
  processorOverNaive: target(ratio('processor', 'naive'), ['>', 1.0]),
  httpOverImageMagick: target(ratio('http', 'magick'), ['>=', 4.0]),
  peakRssMbAt50MP: target(byId('big')?.peakRssMb, ['<', 256]),
  uploadToDoneOverProcessing: target(byId('latency')?.result.extra?.uploadToDoneOverProcessing, ['<=', 1.2]),
  dedupSpeedup: target(byId('dedup')?.result.extra?.dedupSpeedup, ['>=', 3]),
  coldStartMs: target(byId('coldstart') ? percentile(byId('coldstart')!.result.latenciesMs, 50) : undefined, ['<', 300]),
  heicOverNativeTime: target(byId('heic') && byId('heifConvert') ? byId('heic')!.result.seconds / byId('heifConvert')!.result.seconds : undefined, ['<=', 3]),
  heicPeakRssMb: target(byId('heic')?.peakRssMb, ['<', 250]),
  maxEventLoopLagMs: target(byId('eventLoop')?.result.extra?.maxEventLoopLagMs, ['<=', 50]),
  longestHealthzWaitMs: target(byId('eventLoop')?.result.extra?.longestHealthzWaitMs, ['<=', 250]),
  firstRenderOverIpx: target(byId('renders') && byId('ipx') ? byId('ipx')!.result.seconds / byId('renders')!.result.seconds : undefined, ['>=', 1.2]),
  repeatedRenderOverIpx: target(byId('renders') && byId('ipx') ? byId('ipx')!.result.extra!.repeatedSeconds! / byId('renders')!.result.extra!.repeatedSeconds! : undefined, ['>=', 10]),
  s3WritesPerImage: target(byId('aws')?.result.extra?.s3WritesPerImage, ['<=', 6]),
  s3ReadsPerImage: target(byId('aws')?.result.extra?.s3ReadsPerImage, ['<=', 6]),
};

const machine = { cpus: cores, cpu: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, sharp: sharp.versions.sharp, libvips: sharp.versions.vips };
const fmt = (n: number | undefined, digits = 2) => (n === undefined ? 'n/a' : n.toFixed(digits));
console.log(`\nmachine: ${machine.cpus} cores (${machine.cpu}), ${machine.memoryGb} GiB, Node ${machine.node}, sharp ${machine.sharp}, libvips ${machine.libvips}\n`);
console.log('| workload | images | images/s | p50 ms | p95 ms | peak RSS MB |\n|---|---:|---:|---:|---:|---:|');
for (const row of rows) {
  console.log(`| ${row.label} | ${row.result.images} | ${fmt(row.imagesPerSecond)} | ${fmt(row.p50Ms, 0)} | ${fmt(row.p95Ms, 0)} | ${fmt(row.peakRssMb, 0)} |`);
}
// Where an image's time goes on the HTTP path: the median per stage, from the server's log.
const staged = rows.filter((row) => Object.keys(row.result.extra ?? {}).some((key) => key.startsWith('stage.')));
const stageNames = [...new Set(staged.flatMap((row) => Object.keys(row.result.extra!).filter((key) => key.startsWith('stage.'))))];
if (staged.length > 0) {
  console.log(`\nmedian ms per image and stage\n| workload | ${stageNames.map((name) => name.slice('stage.'.length)).join(' | ')} |\n|---|${stageNames.map(() => '---:').join('|')}|`);
  for (const row of staged) console.log(`| ${row.id} | ${stageNames.map((name) => fmt(row.result.extra![name], 0)).join(' | ')} |`);
}
// Storage requests per processed image, by phase and by kind of object.
for (const row of rows.filter((r) => r.result.extra?.s3WritesPerImage !== undefined)) {
  const counts = Object.entries(row.result.extra!).filter(([key]) => key.startsWith('s3.'));
  console.log(`\nS3 requests per image, ${row.id}: ${fmt(row.result.extra!.s3WritesPerImage, 1)} writes, ${fmt(row.result.extra!.s3ReadsPerImage, 1)} reads\n| of | writes | reads |\n|---|---:|---:|`);
  const names = [...new Set(counts.map(([key]) => key.split('.')[1]!))];
  for (const name of names) console.log(`| ${name} | ${fmt(row.result.extra![`s3.${name}.writes`] ?? 0, 1)} | ${fmt(row.result.extra![`s3.${name}.reads`] ?? 0, 1)} |`);
}
// System calls per processed image on the fs store, by the object they touch.
const fsRow = byId('fs');
if (fsRow?.result.extra) {
  const counts = Object.entries(fsRow.result.extra);
  const groups = ['fsync', 'open', 'rename', 'mkdir', 'stat', 'unlink'];
  console.log(`\nsystem calls per image on the fs store (strace)\n| of | ${groups.join(' | ')} |\n|---|${groups.map(() => '---:').join('|')}|`);
  for (const kind of [...new Set(counts.map(([key]) => key.slice(3, key.lastIndexOf('.'))))]) {
    console.log(`| ${kind} | ${groups.map((group) => fmt(fsRow.result.extra![`fs.${kind}.${group}`] ?? 0, 1)).join(' | ')} |`);
  }
}
console.log('\n| target | measured | goal | |\n|---|---:|---|---|');
for (const [name, { value, goal, met }] of Object.entries(targets)) console.log(`| ${name} | ${fmt(value)} | ${goal} | ${met ? 'met' : 'MISSED'} |`);
const missed = Object.entries(targets).filter(([, { met }]) => !met).map(([name]) => name);

// The tracked results (bench/results.json, bench/chart.svg, which docs/PERFORMANCE.md shows) change
// only when asked (--record); any other run writes beside the photos, in bench/.cache.
const out = record ? HERE : CACHE;
await writeFile(join(out, 'results.json'), JSON.stringify({ date: new Date().toISOString(), machine, quick, rows: rows.map(({ result, ...row }) => ({ ...row, latenciesMs: result.latenciesMs, extra: result.extra })), targets }, null, 2) + '\n');
await writeFile(join(out, 'chart.svg'), chart(rows.filter((row) => COMPARED.includes(row.id)), machine.cpus));
console.log(`\nwrote ${relative(process.cwd(), join(out, 'results.json'))} and ${relative(process.cwd(), join(out, 'chart.svg'))}${record ? '' : ' (--record writes bench/results.json)'}`);
if (missed.length > 0) console.log(`missed: ${missed.join(', ')}`);
// A quick run has too few photos to judge a target by; a full run that misses one fails.
if (!quick && missed.length > 0) process.exitCode = 1;
