import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFileCache } from '../../src/storage/file-cache.js';
import { useTempDirs } from '../helpers/temp.js';

const tempDirs = useTempDirs();

describe('createFileCache', () => {
  it('serves an unchanged file from memory and a replaced one from disk, even at the same size', async () => {
    const dir = await tempDirs();
    const path = join(dir, 'manifest.json');
    const cache = createFileCache();
    await writeFile(path, 'aaaa');
    const first = await cache.read(path);
    expect(first?.toString()).toBe('aaaa');
    // The very same buffer: nothing was read again.
    expect(await cache.read(path)).toBe(first);

    // Replaced the way the store replaces files, same size, within the same millisecond or not.
    await writeFile(join(dir, 'next'), 'bbbb');
    await rename(join(dir, 'next'), path);
    expect((await cache.read(path))?.toString()).toBe('bbbb');

    await rm(path);
    expect(await cache.read(path)).toBeUndefined();
    await mkdir(path);
    expect(await cache.read(path)).toBeUndefined();
    expect(await cache.read(join(dir, 'missing', 'deeper'))).toBeUndefined();
  });

  it('keeps only small files, and only the most recently used', async () => {
    const dir = await tempDirs();
    // Room for two files of five bytes; nothing over ten bytes is kept.
    const cache = createFileCache(10, 10);
    const big = join(dir, 'big');
    await writeFile(big, 'x'.repeat(11));
    expect(await cache.read(big)).not.toBe(await cache.read(big));

    const paths = ['a', 'b', 'c'].map((name) => join(dir, name));
    for (const path of paths) await writeFile(path, 'small');
    const a = await cache.read(paths[0]!);
    const b = await cache.read(paths[1]!);
    expect(await cache.read(paths[0]!)).toBe(a);
    await cache.read(paths[2]!);
    // b was the least recently used of three in a cache of two.
    expect(await cache.read(paths[0]!)).toBe(a);
    expect(await cache.read(paths[1]!)).not.toBe(b);
  });
});
