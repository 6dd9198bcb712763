import { describe, expect, it } from 'vitest';
import { manifestKey } from '../../src/processing/keys.js';
import { readManifest, writeManifest, type Manifest } from '../../src/processing/manifest.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { getBuffer } from '../../src/storage/object-store.js';
import { useTempDirs } from '../helpers/temp.js';

const tempDirs = useTempDirs();

const manifest: Manifest = {
  id: 'abc',
  status: 'done',
  original: { format: 'jpeg', width: 640, height: 480, bytes: 12_345, filename: 'cat.jpg' },
  variants: [{ name: 'thumbnail', format: 'webp', width: 150, height: 150, bytes: 999, key: 'abc/thumbnail.webp' }],
  watermark: false,
  createdAt: '2026-11-27T10:00:00.000Z',
  completedAt: '2026-11-27T10:00:01.000Z',
  sourceEtag: '"e1"',
};

describe('the manifest schema', () => {
  it('writes every manifest with its version, and reads back what it wrote', async () => {
    const output = createFsStore(await tempDirs(), 'out');
    await writeManifest(output, manifest);
    const stored = JSON.parse((await getBuffer(output, manifestKey('abc')))!.toString('utf8'));
    expect(stored.version).toBe(1);
    expect(await readManifest(output, 'abc')).toEqual(manifest);
  });

  it('still reads a manifest written before versions (the same shape without one)', async () => {
    const output = createFsStore(await tempDirs(), 'out');
    await output.put(manifestKey('abc'), Buffer.from(JSON.stringify(manifest)));
    expect(await readManifest(output, 'abc')).toEqual(manifest);
  });

  it('treats as absent what is not a manifest it knows: another tool’s JSON, a wrong field, a newer version', async () => {
    const output = createFsStore(await tempDirs(), 'out');
    for (const body of [
      '{"hello":"world"}',
      JSON.stringify({ ...manifest, status: 'finished' }),
      JSON.stringify({ ...manifest, variants: [{ ...manifest.variants[0], format: 'exe' }] }),
      JSON.stringify({ ...manifest, version: 2 }),
      'not json',
    ]) {
      await output.put(manifestKey('abc'), Buffer.from(body));
      expect(await readManifest(output, 'abc'), body).toBeUndefined();
    }
  });
});
