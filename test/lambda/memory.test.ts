import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originalKey } from '../../src/processing/keys.js';
import { readManifest } from '../../src/processing/manifest.js';
import { createS3Client, createS3Store, type S3Store } from '../../src/storage/s3-store.js';
import { bucketIds, synth } from '../helpers/aws/synth.js';
import { templateIam, type CfnTemplate } from '../helpers/aws/template-iam.js';
import { heicGrid } from '../helpers/heic-grid.js';
import { startS3rver, type S3Server } from '../helpers/s3rver.js';

const INPUT = 'image-processor-input-bucket';
const OUTPUT = 'image-processor-output-bucket';
const MEMORY_MB = 512;
const CGROUPS = '/sys/fs/cgroup/memory';

/** cgroup v1's memory controller, writable (as root): the same hard cap Lambda puts on a function. */
const capAvailable = (() => {
  try {
    accessSync(CGROUPS, constants.W_OK);
    return existsSync(join(CGROUPS, 'memory.limit_in_bytes'));
  } catch {
    return false;
  }
})();
const NO_CAP = `no writable cgroup v1 memory controller at ${CGROUPS} (run as root on cgroup v1 for the ${MEMORY_MB} MB cap)`;
/** On a developer's machine without one the test is skipped, and says so; under CI=true it fails instead, as the Chromium tests do. */
const runUnderCap = capAvailable || process.env.CI === 'true';
if (!runUnderCap) console.warn(`memory.test.ts skipped: ${NO_CAP}`);

let s3: S3Server;
let output: S3Store;
let input: S3Store;

beforeAll(async () => {
  if (!runUnderCap) return;
  if (!capAvailable) throw new Error(`memory.test.ts cannot run: ${NO_CAP}`);
  s3 = await startS3rver([INPUT, OUTPUT]);
  const client = createS3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1' });
  input = createS3Store(client, INPUT);
  output = createS3Store(client, OUTPUT);
}, 120_000);
afterAll(() => s3?.close());

/** Runs `node args` inside a fresh memory cgroup of `mb` megabytes (swap included); gives how it ended and its peak. */
async function underCap(mb: number, args: string[], env: Record<string, string>) {
  const group = join(CGROUPS, `image-processor-test-${process.pid}`);
  mkdirSync(group, { recursive: true });
  try {
    writeFileSync(join(group, 'memory.limit_in_bytes'), String(mb * 1024 * 1024));
    if (existsSync(join(group, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(group, 'memory.memsw.limit_in_bytes'), String(mb * 1024 * 1024));
    const child = spawn('sh', ['-c', `echo $$ > ${join(group, 'cgroup.procs')} && exec "$0" "$@"`, process.execPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    const peakMb = Number(readFileSync(join(group, 'memory.max_usage_in_bytes'), 'utf8')) / 1024 / 1024;
    return { code, signal, out, peakMb };
  } finally {
    rmdirSync(group);
  }
}

describe.skipIf(!runUnderCap)(`processor Lambda bundle under a real ${MEMORY_MB} MB cap`, () => {
  it('finishes a 50 MP JPEG, a 24 MP and a 12 MP HEIC in one warm process, and ends a 48 MP HEIC with a code, never killed', async () => {
    const tile = await readFile(join(import.meta.dirname, '../fixtures/tile512.heic'));
    const images: Record<string, Buffer> = {
      'jpeg-50mp': await sharp({ create: { width: 8660, height: 5774, channels: 3, background: '#557799', noise: { type: 'gaussian', mean: 128, sigma: 20 } } }).jpeg({ quality: 85 }).toBuffer(),
      // The sizes of current phones: 24 MP (5712x4284) and 12 MP (4032x3024), and a 48 MP one.
      'heic-24mp': heicGrid(tile, 5712, 4284),
      'heic-12mp': heicGrid(tile, 4032, 3024),
      'heic-48mp': heicGrid(tile, 8064, 6048),
    };
    for (const [id, bytes] of Object.entries(images)) await input.put(originalKey(id), bytes);

    // The processor starts with the environment the template gives it, as on Lambda.
    const { template } = synth();
    const ids = bucketIds(template);
    const environment = templateIam(template.toJSON() as CfnTemplate, { account: '123456789012', region: 'us-east-1', stackName: 'Test', bucketNames: { [ids.input]: INPUT, [ids.output]: OUTPUT } }).functionEnvironment('processor.handler');
    const env = {
      ...environment,
      PATH: process.env.PATH ?? '',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(MEMORY_MB),
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      WATERMARK_TEXT: 'LAMBDA',
      WATERMARK_FONT_FILE: '',
      FONTCONFIG_PATH: '',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
    };
    const bundle = pathToFileURL(join(import.meta.dirname, '../../dist/lambda/processor.mjs')).href;
    const run = await underCap(MEMORY_MB, [join(import.meta.dirname, '../helpers/aws/warm-processor.mjs'), bundle, ...Object.keys(images).map(originalKey)], env);

    expect(run.signal, `killed at a peak of ${run.peakMb.toFixed(0)} MB:\n${run.out}`).toBeNull();
    expect(run.code, run.out).toBe(0);
    const status = async (id: string) => {
      const manifest = await readManifest(output, id);
      return manifest?.status === 'failed' ? `failed:${manifest.error?.code}` : manifest?.status;
    };
    expect(await status('jpeg-50mp')).toBe('done');
    expect(await status('heic-24mp')).toBe('done');
    expect(await status('heic-12mp')).toBe('done');
    expect(['done', 'failed:too_many_pixels']).toContain(await status('heic-48mp'));
    expect((await readManifest(output, 'heic-24mp'))?.original).toMatchObject({ width: 5712, height: 4284 });
    console.info(`processor under a ${MEMORY_MB} MB cap: peak ${run.peakMb.toFixed(0)} MB; 48 MP HEIC ${await status('heic-48mp')}`);
  }, 300_000);
});
