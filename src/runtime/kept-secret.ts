import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncPath } from '../storage/sync-path.js';

/**
 * A secret made once and kept in a file only this user may read, so that what is derived from it
 * (owner ids) stays the same across restarts. Created with `wx`: of two servers starting at once,
 * one writes it and both read the same.
 */
export async function keptSecret(path: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await writeFile(path, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
    // Owner ids stored with images derive from it: it must outlive a power cut, bytes and name.
    await syncPath(path);
    await syncPath(dirname(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const secret = (await readFile(path, 'utf8')).trim();
  if (secret.length < 32) throw new Error(`${path} holds no usable secret; delete it to make a new one, or set OWNER_ID_SECRET.`);
  return secret;
}
