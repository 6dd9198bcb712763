import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createFsStore } from '../../src/storage/fs-store.js';
import { getBuffer } from '../../src/storage/object-store.js';
import { readManifest } from '../../src/processing/manifest.js';
import { noisy } from '../helpers/images.js';
import { useTempDirs } from '../helpers/temp.js';

const tempDirs = useTempDirs();
const BUNDLE = join(import.meta.dirname, '../../dist/runtime/local.mjs');

/** The built server as its own process, as `npm start` runs it; resolves with its URL once it listens. */
function startProcess(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BUNDLE], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', CONCURRENCY: '2', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const url = /"url":"(http:\/\/[^"]+)"/.exec(buffered)?.[1];
      if (url) resolve({ child, url });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

describe('a crash at any moment', () => {
  it('loses no acknowledged upload and leaves no partial output: kill -9 mid-batch, then restart', async () => {
    const dataDir = await tempDirs();
    const photos = await Promise.all(Array.from({ length: 4 }, (_, i) => noisy(1600 + i * 16, 1200)));
    const first = await startProcess(dataDir);
    const acknowledged: string[] = [];
    let killed = false;
    const uploads = Array.from({ length: 24 }, async (_, i) => {
      try {
        const response = await fetch(`${first.url}/v1/images`, { method: 'POST', body: new Uint8Array(photos[i % photos.length]!), headers: { 'content-type': 'image/jpeg' } });
        if (response.status === 202) acknowledged.push(((await response.json()) as { id: string }).id);
      } catch {
        // Cut off by the kill: never acknowledged, so nothing is owed.
      }
      // Pull the plug while uploads are streaming in and images are being rendered.
      if (acknowledged.length >= 8 && !killed) {
        killed = true;
        first.child.kill('SIGKILL');
      }
    });
    await Promise.all(uploads);
    expect(killed).toBe(true);
    expect(acknowledged.length).toBeGreaterThanOrEqual(8);

    const second = await startProcess(dataDir);
    try {
      const output = createFsStore(dataDir, 'image-processor-output-bucket');
      for (const id of acknowledged) {
        let status = '';
        for (let i = 0; i < 600 && status !== 'done' && status !== 'failed'; i++) {
          const response = await fetch(`${second.url}/v1/images/${id}`);
          expect(response.status, `acknowledged image ${id} is gone`).toBe(200);
          status = ((await response.json()) as { status: string }).status;
          if (status !== 'done') await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(status).toBe('done');
        const manifest = await readManifest(output, id);
        for (const variant of manifest!.variants) {
          const bytes = await getBuffer(output, variant.key);
          // A whole file: it decodes to the size the manifest promises.
          const { info } = await sharp(bytes!).raw().toBuffer({ resolveWithObject: true });
          expect([info.width, info.height]).toEqual([variant.width, variant.height]);
        }
      }
      // The built server's render process (dist/runtime/render-child.mjs) makes an on-demand size.
      const minted = await fetch(`${second.url}/v1/images/${acknowledged[0]}/renders`, { method: 'POST', body: JSON.stringify({ width: 120 }), headers: { 'content-type': 'application/json' } });
      const rendered = await fetch(((await minted.json()) as { url: string }).url);
      expect(rendered.status).toBe(200);
      expect((await sharp(Buffer.from(await rendered.arrayBuffer())).metadata()).width).toBe(120);
      // Temporary files of the killed process were cleared at start-up.
      const leftovers = (await readdir(join(dataDir, '.tmp')).catch(() => [])).filter((name) => name !== 'uploads');
      expect(leftovers).toEqual([]);
    } finally {
      // Stopped, and waited for: a stopping server still writes (its clean-stop record) into the folder the test then removes.
      const exited = new Promise((resolve) => second.child.once('exit', resolve));
      second.child.kill('SIGTERM');
      await exited;
    }
  });
});
