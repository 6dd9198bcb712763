import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileSystem } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { copyAssetTree } from '../../scripts/copy-asset-tree.mjs';
import { useTempDirs } from '../helpers/temp.js';

const tempDir = useTempDirs();

/** What `npm install` leaves: a package, and a relative link to its binary in node_modules/.bin. */
async function installedTree(root: string) {
  await mkdir(join(root, 'node_modules/pkg/bin'), { recursive: true });
  await mkdir(join(root, 'node_modules/.bin'), { recursive: true });
  await writeFile(join(root, 'node_modules/pkg/bin/tool.js'), 'console.log(1);');
  await writeFile(join(root, 'node_modules/pkg/index.js'), 'module.exports = 1;');
  await symlink('../pkg/bin/tool.js', join(root, 'node_modules/.bin/tool'));
  await mkdir(join(root, 'node_modules/pkg/lib'), { recursive: true });
  await symlink('../index.js', join(root, 'node_modules/pkg/lib/entry.js'));
  return join(root, 'node_modules');
}

describe('the staged Lambda asset', () => {
  it('hashes the same from two clones in different folders', async () => {
    const hashes: string[] = [];
    for (const clone of ['first', 'second/deeper']) {
      const root = join(await tempDir(), clone);
      const asset = join(root, 'build/lambda-asset');
      const installed = join(root, 'build/sharp-arm64');
      await copyAssetTree(await installedTree(installed), join(asset, 'node_modules'));
      // As stage-lambda.mjs does: the install folder goes once copied.
      await rm(installed, { recursive: true });
      hashes.push(FileSystem.fingerprint(asset));
    }
    expect(hashes[0]).toBe(hashes[1]);
  });
});
