import { cp } from 'node:fs/promises';
import { sep } from 'node:path';

/**
 * Copies a folder into the Lambda asset so that the asset's hash depends on its contents only:
 * symlinks stay as written (fs.cp would rewrite relative ones as absolute paths of this clone,
 * so every clone's deploy would look like a new asset); node_modules/.bin, whose links Lambda
 * never runs, and source maps are left out.
 */
export function copyAssetTree(from, to) {
  return cp(from, to, { recursive: true, verbatimSymlinks: true, filter: (path) => !path.endsWith('.map') && !path.split(sep).includes('.bin') });
}
