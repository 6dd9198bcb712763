import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { halfTransparent, noisy } from './helpers/images.js';
import { cli } from './helpers/cli.js';
import { useTempDirs } from './helpers/temp.js';

const tempDirs = useTempDirs();


describe('batch CLI', () => {
  it('processes a folder into <out>/<name>/<variant>.<ext>, names the file it could not process, and exits 1', async () => {
    const folder = await tempDirs();
    const out = await tempDirs();
    await mkdir(join(folder, 'trip'));
    await writeFile(join(folder, 'beach.jpg'), await noisy(1200, 800));
    await writeFile(join(folder, 'trip', 'logo.png'), await halfTransparent());
    await writeFile(join(folder, 'notes.jpg'), 'a text file with an image name');

    const result = await cli(['process', folder, '--out', out], { WATERMARK_TEXT: 'CLI' });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('processed 2 of 3 files');
    expect(result.stderr).toMatch(/failed: .*notes\.jpg: unsupported_format/);
    expect((await readdir(out)).sort()).toEqual(['beach', 'logo']);
    expect((await readdir(join(out, 'beach'))).sort()).toEqual(['large.jpg', 'medium.jpg', 'thumbnail.jpg']);
    expect(await sharp(join(out, 'beach', 'medium.jpg')).metadata()).toMatchObject({ format: 'jpeg', width: 800, height: 533 });
  });

  it('exits 0 when every file is processed, and honours VARIANTS', async () => {
    const folder = await tempDirs();
    const out = await tempDirs();
    await writeFile(join(folder, 'a.jpg'), await noisy(400, 300));
    const result = await cli(['process', join(folder, 'a.jpg'), '--out', out], { VARIANTS: 'tiny:64x64:cover:webp' });
    expect(result.code).toBe(0);
    expect(await readdir(join(out, 'a'))).toEqual(['tiny.webp']);
  });

  it('prints its usage and exits 2 without a command, paths or --out', async () => {
    const result = await cli(['process', 'somewhere']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: image-processor process');
  });
});
