import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { settingsPrint } from '../src/processing/dedup.js';
import { originalKey } from '../src/processing/keys.js';
import { uploadTime } from '../src/processing/original-metadata.js';
import { readManifest } from '../src/processing/manifest.js';
import { createProcessor } from '../src/processing/processor.js';
import { createFsStore } from '../src/storage/fs-store.js';
import { createS3Client, createS3Store } from '../src/storage/s3-store.js';
import { countingProxy } from './helpers/counting-proxy.js';
import { startS3rver } from './helpers/s3rver.js';
import { noisy, solid } from './helpers/images.js';
import { useTestServer } from './helpers/server.js';
import { cli, CLI } from './helpers/cli.js';
import { useTempDirs } from './helpers/temp.js';

const tempDirs = useTempDirs();
const testServer = useTestServer();
const BEFORE = 'thumbnail:150x150:cover';
const AFTER = 'thumbnail:120x120:cover,wide:600x300:inside';


/** `count` images in a fresh data folder, processed with VARIANTS=BEFORE. */
async function dataFolder(count: number) {
  const dir = await tempDirs();
  const config = loadConfig({ DATA_DIR: dir, VARIANTS: BEFORE });
  const input = createFsStore(dir, config.inputBucket);
  const output = createFsStore(dir, config.outputBucket);
  const processor = createProcessor({ input, output, config });
  const ids = Array.from({ length: count }, (_, i) => `photo-${i}`);
  for (const [i, id] of ids.entries()) {
    await input.put(originalKey(id), await noisy(2400 + i, 1800));
    await processor.process(id);
  }
  return { dir, ids, output };
}

describe('reprocess --all', () => {
  it('renders again what the settings changed, on local folders, and resumes after being killed', async () => {
    const { dir, ids, output } = await dataFolder(6);
    const after = settingsPrint(loadConfig({ VARIANTS: AFTER }), false);
    const env = { VARIANTS: AFTER, CONCURRENCY: '1' };
    const child = spawn(process.execPath, [CLI, 'reprocess', '--all', '--data-dir', dir], { env: { ...process.env, ...env }, stdio: 'ignore' });
    // Killed as soon as it has finished one image: the rest are still to do.
    for (;;) {
      const done = await Promise.all(ids.map(async (id) => {
        const manifest = await readManifest(output, id);
        return manifest?.status === 'done' && manifest.settings === after;
      }));
      if (done.some(Boolean)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));

    const resumed = await cli(['reprocess', '--all', '--data-dir', dir], env);
    expect(resumed.code).toBe(0);
    const [, reprocessed, skipped, failed] = /(\d+) reprocessed, (\d+) skipped, (\d+) failed/.exec(resumed.stdout)!.map(Number);
    expect(skipped).toBeGreaterThanOrEqual(1);
    expect(reprocessed).toBeGreaterThanOrEqual(1);
    expect([reprocessed! + skipped!, failed]).toEqual([6, 0]);
    for (const id of ids) expect((await readManifest(output, id))?.variants.map((v) => [v.name, v.height])).toEqual([['thumbnail', 120], ['wide', 300]]);

    // Nothing left to do.
    expect((await cli(['reprocess', '--all', '--data-dir', dir], env)).stdout).toContain('0 reprocessed, 6 skipped, 0 failed');
  });

  it('never turns a done image into a failed one: a rendering that fails leaves the image as it was', async () => {
    const { dir, ids, output } = await dataFolder(1);
    const before = await readManifest(output, ids[0]!);
    // New settings this image cannot be rendered with here.
    const result = await cli(['reprocess', '--all', '--data-dir', dir], { VARIANTS: AFTER, MAX_INPUT_PIXELS: '1000' });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('0 reprocessed, 0 skipped, 1 failed');
    expect(result.stderr).toContain('too_many_pixels');
    const after = await readManifest(output, ids[0]!);
    expect(after).toEqual(before);
    for (const variant of after!.variants) expect(await output.head(variant.key)).toBeDefined();
  });

  it('works through a running server, which judges with its own settings, and exits 1 when an image fails', async () => {
    const first = await testServer({ VARIANTS: BEFORE });
    for (const colour of ['#112233', '#445566']) await first.settled(await first.upload(await solid(800, 600, colour)));
    // A JPEG cut short: taken at upload (its header is whole), failed by the processor.
    const broken = await first.upload((await noisy(800, 600)).subarray(0, 3000));
    expect((await first.settled(broken)).status).toBe('failed');
    await first.close();

    const server = await testServer({ VARIANTS: AFTER }, { dataDir: first.dataDir });
    await server.recovered;
    const once = await cli(['reprocess', '--all', '--server', server.url]);
    expect(once.stdout).toContain('2 reprocessed, 0 skipped, 1 failed');
    expect(once.stderr).toContain(`failed: ${broken}: decode_failed`);
    expect(once.code).toBe(1);
    // A failure the image itself causes is final with these settings: skipped from now on.
    expect((await cli(['reprocess', '--all', '--server', server.url])).stdout).toContain('0 reprocessed, 3 skipped, 0 failed');
    // --since: only images uploaded since then count at all.
    expect((await cli(['reprocess', '--all', '--server', server.url, '--since', '2999-01-01'])).stdout).toContain('0 reprocessed, 0 skipped, 0 failed');
  });

  it('on a deployment’s buckets, copies each stale original onto itself for the processor Lambda', async () => {
    const s3 = await startS3rver(['reprocess-in', 'reprocess-out']);
    const proxy = await countingProxy(s3.endpoint);
    try {
      const env = { S3_ENDPOINT: proxy.endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_REGION: 'us-east-1', OUTPUT_BUCKET: 'reprocess-out', VARIANTS: AFTER };
      const client = createS3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1' });
      const input = createS3Store(client, 'reprocess-in');
      const output = createS3Store(client, 'reprocess-out');
      const stale = createProcessor({ input, output, config: loadConfig({ VARIANTS: BEFORE }) });
      const current = createProcessor({ input, output, config: loadConfig({ VARIANTS: AFTER }) });
      await input.put(originalKey('old'), await solid(300, 200, '#101010'), { metadata: { filename: 'old.jpg' } });
      await input.put(originalKey('new'), await solid(300, 200, '#202020'));
      await stale.process('old');
      await current.process('new');
      const before = await input.head(originalKey('old'));

      const result = await cli(['reprocess', '--all', '--bucket', 'reprocess-in'], env);
      expect(result.stdout).toContain('1 reprocessed, 1 skipped, 0 failed');
      // Copied onto itself (S3 sends ObjectCreated for it), the stale one only: the same bytes and metadata,
      // with the upload time written in, since the copy has a LastModified of its own.
      const copies = proxy.requests.filter((request) => request.copySource).map((request) => [request.method, request.url.split('?')[0]]);
      expect(copies).toEqual([['PUT', '/reprocess-in/originals/old']]);
      const after = await input.head(originalKey('old'));
      expect([after!.size, after!.metadata]).toEqual([before!.size, { ...before!.metadata, uploaded: String(before!.lastModified.getTime()) }]);
      expect(uploadTime(after!)).toBe(uploadTime(before!));
      // The copy keeps the ETag, so its manifest is cleared too: the processor's run on the event renders again.
      expect(await readManifest(output, 'old')).toBeUndefined();
      // The Lambda has not run here, so the same call finds the same stale image again.
      expect((await cli(['reprocess', '--all', '--bucket', 'reprocess-in'], env)).stdout).toContain('1 reprocessed, 1 skipped, 0 failed');
      expect(await current.process('old')).toMatchObject({ status: 'done' });
      expect((await cli(['reprocess', '--all', '--bucket', 'reprocess-in'], env)).stdout).toContain('0 reprocessed, 2 skipped, 0 failed');
    } finally {
      await proxy.close();
      await s3.close();
    }
  });

  it('names what it needs when the arguments are wrong', async () => {
    const wrong = await cli(['reprocess', '--data-dir', 'x']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('reprocess --all');
    expect((await cli(['reprocess', '--all', '--data-dir', 'x', '--server', 'http://localhost:1'])).code).toBe(2);
  });
});
