import { execFileSync } from 'node:child_process';
import { mkdir, open, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { originalKey } from '../../src/processing/keys.js';
import { readManifest, writeManifest } from '../../src/processing/manifest.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { solid } from '../helpers/images.js';
import { useTestServer } from '../helpers/server.js';
import { useTempDirs } from '../helpers/temp.js';

const tempDirs = useTempDirs();
const testServer = useTestServer();

describe('restart and events', () => {
  it('processes at start-up every original a crash left without a final manifest', async () => {
    const dataDir = await tempDirs();
    const config = loadConfig({ DATA_DIR: dataDir });
    const input = createFsStore(dataDir, config.inputBucket);
    const output = createFsStore(dataDir, config.outputBucket);
    // Acknowledged but never processed; and one whose processing was cut short.
    await input.put(originalKey('never-started'), await solid(500, 400, '#102030'));
    const interrupted = await input.put(originalKey('interrupted'), await solid(600, 300, '#302010'));
    await writeManifest(output, {
      id: 'interrupted', status: 'processing', original: { bytes: interrupted.size }, variants: [], watermark: false,
      createdAt: new Date().toISOString(), sourceEtag: interrupted.etag,
    });
    // A crash mid-write leaves a temporary file; start-up removes it.
    await mkdir(join(dataDir, '.tmp'), { recursive: true });
    await writeFile(join(dataDir, '.tmp', 'half-written'), 'partial');

    const server = await testServer({}, { dataDir });
    expect(await server.settled('never-started')).toMatchObject({ status: 'done', original: { width: 500, height: 400 } });
    expect(await server.settled('interrupted')).toMatchObject({ status: 'done', original: { width: 600, height: 300 } });
    expect(await readdir(join(dataDir, '.tmp'))).not.toContain('half-written');
  });

  it('processes a file another tool drops under originals/ once the server looks again', async () => {
    const dataDir = await tempDirs();
    const folder = join(dataDir, 'image-processor-input-bucket/originals');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'from-camera.jpg'), await solid(320, 240, '#aa5500'));
    await writeFile(join(folder, 'Holiday 2024.jpg'), await solid(200, 100, '#0055aa'));
    const server = await testServer({}, { dataDir });
    expect(await server.settled('from-camera.jpg')).toMatchObject({ status: 'done', original: { format: 'jpeg', width: 320 } });
    // A name outside the API's id pattern is processed all the same, though the API cannot name it.
    await server.queue.idle();
    const output = createFsStore(dataDir, 'image-processor-output-bucket');
    expect(await readManifest(output, 'Holiday 2024.jpg')).toMatchObject({ status: 'done', original: { width: 200 } });
  });

  it('lists the originals folder at start-up unless a clean stop left it as it is now', async () => {
    const first = await testServer();
    const id = await first.upload(await solid(200, 200, '#123456'));
    await first.settled(id);
    await first.close();
    // Dropped while the server is down: the folder changed since the clean stop.
    const folder = join(first.dataDir, 'image-processor-input-bucket/originals');
    await writeFile(join(folder, 'while-down.jpg'), await solid(120, 80, '#654321'));
    const second = await testServer({}, { dataDir: first.dataDir });
    expect(await second.settled('while-down.jpg')).toMatchObject({ status: 'done' });
    await second.close();
    // A file put there with the folder's time set back, as no tool does, shows the listing was skipped.
    const reference = join(first.dataDir, 'folder-time');
    execFileSync('touch', ['-m', '-r', folder, reference]);
    await writeFile(join(folder, 'hidden-by-touch.jpg'), await solid(120, 80, '#654321'));
    execFileSync('touch', ['-m', '-r', reference, folder]);
    const third = await testServer({}, { dataDir: first.dataDir });
    await third.recovered;
    await third.queue.idle();
    expect((await third.api('/v1/images/hidden-by-touch.jpg')).status).toBe(200);
    expect(await readManifest(createFsStore(first.dataDir, 'image-processor-output-bucket'), 'hidden-by-touch.jpg')).toBeUndefined();
  });

  it('processes a file another tool drops under originals/ while it runs, once the copy is whole', async () => {
    const server = await testServer();
    const folder = join(server.dataDir, 'image-processor-input-bucket/originals');
    const photo = await solid(400, 300, '#55aa00');
    // Copied in two halves with a pause, as a slow copy would: never processed half-written.
    const file = await open(join(folder, 'dropped.jpg'), 'w');
    await file.write(photo.subarray(0, 1000));
    await new Promise((resolve) => setTimeout(resolve, 150));
    await file.write(photo.subarray(1000));
    await file.close();
    await writeFile(join(folder, '.partial-download'), 'not an image');
    expect(await server.settled('dropped.jpg')).toMatchObject({ status: 'done', original: { format: 'jpeg', width: 400, height: 300 } });
    // No upload listed it in the index: its processing did.
    const listed = (await (await server.api('/v1/images')).json()) as { items: { id: string }[] };
    expect(listed.items.map((item) => item.id)).toEqual(['dropped.jpg']);
    await server.queue.idle();
    const output = createFsStore(server.dataDir, 'image-processor-output-bucket');
    expect(await readManifest(output, '.partial-download')).toBeUndefined();
  });

  it('handles a duplicated object-created event without redoing or breaking the work', async () => {
    const dataDir = await tempDirs();
    const server = await testServer({}, { dataDir });
    const id = await server.upload(await solid(800, 600, '#0a0b0c'));
    // The same event twice more, at once, as S3 may deliver it.
    server.queue.enqueue(id);
    server.queue.enqueue(id);
    const first = await server.settled(id);
    await server.queue.idle();
    server.queue.enqueue(id);
    await server.queue.idle();
    const output = createFsStore(dataDir, 'image-processor-output-bucket');
    const manifest = await readManifest(output, id);
    expect(manifest?.completedAt).toBe(first.completedAt);
    expect(manifest?.status).toBe('done');
  });

  it('does not process a finished image again after a restart', async () => {
    const before = await testServer();
    const id = await before.upload(await solid(300, 300, '#777777'));
    const first = await before.settled(id);
    await before.close();
    const server = await testServer({}, { dataDir: before.dataDir });
    await server.recovered;
    await server.queue.idle();
    expect((await server.settled(id)).completedAt).toBe(first.completedAt);
  });
});
