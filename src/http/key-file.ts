import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { syncPath } from '../storage/sync-path.js';

/** Where `image-processor keys` keeps the machine keys of a data folder: hashes only. */
export const keyFilePath = (dataDir: string) => join(dataDir, '.secrets', 'api-keys.json');

export const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const KeyFile = z.object({
  keys: z.array(
    z.object({
      name: z.string().regex(KEY_NAME),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      createdAt: z.string(),
      revokedAt: z.string().optional(),
    }),
  ),
});
export type KeyRecord = z.infer<typeof KeyFile>['keys'][number];

export const keyDigest = (key: string) => createHash('sha256').update(key).digest();

/** The keys in the file; none when there is no file. A file that does not parse is an error, never "no keys". */
export async function readKeys(path: string): Promise<KeyRecord[] | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = KeyFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error('the API key file is damaged; restore it from a backup or remove it');
  return parsed.data.keys;
}

/** Replaces the file whole (a reader sees the old list or the new one), readable by this user only. */
async function writeKeys(path: string, keys: KeyRecord[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  const file = await open(temporary, 'w', 0o600);
  try {
    await file.writeFile(`${JSON.stringify({ keys }, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  // The key was printed once: its record must not vanish with the rename at a power cut.
  await syncPath(dirname(path));
}

/** Makes a key named `name`, keeps its hash, and returns it: the only time it is seen. */
export async function createKey(path: string, name: string): Promise<string> {
  if (!KEY_NAME.test(name)) throw new Error('a key name is 1 to 64 letters, digits, dots, dashes or underscores');
  const keys = (await readKeys(path)) ?? [];
  if (keys.some((key) => key.name === name && !key.revokedAt)) throw new Error(`a key named ${name} exists; revoke it first or choose another name`);
  const key = `ipk_${randomBytes(32).toString('base64url')}`;
  await writeKeys(path, [...keys, { name, sha256: keyDigest(key).toString('hex'), createdAt: new Date().toISOString() }]);
  return key;
}

/** Marks the named key revoked (kept, so the list says when); false when no live key has that name. */
export async function revokeKey(path: string, name: string): Promise<boolean> {
  const keys = (await readKeys(path)) ?? [];
  const live = keys.find((key) => key.name === name && !key.revokedAt);
  if (!live) return false;
  live.revokedAt = new Date().toISOString();
  await writeKeys(path, keys);
  return true;
}

/** How often a running server looks at the file: a revoked key stops working within this. */
export const RECHECK_MS = 1000;

/**
 * The live key digests of the file, as a server reads them: the file is looked at again (a stat)
 * when what was seen is older than `maxAgeMs`, and read again only when it changed; no restart needed.
 */
export function watchKeyFile(path: string): (maxAgeMs?: number) => Promise<{ exists: boolean; digests: Buffer[] }> {
  let checkedAt = 0;
  let version = '';
  let current = { exists: false, digests: [] as Buffer[] };
  let pending: Promise<typeof current> | undefined;
  const refresh = async () => {
    const info = await stat(path).catch(() => undefined);
    const seen = info ? `${info.mtimeMs}:${info.size}:${info.ino}` : '';
    if (seen !== version) {
      // A file that cannot be read refuses its keys (but still means keys are required).
      const keys = info ? await readKeys(path).catch(() => []) : undefined;
      current = { exists: keys !== undefined, digests: (keys ?? []).filter((key) => !key.revokedAt).map((key) => Buffer.from(key.sha256, 'hex')) };
      version = seen;
    }
    checkedAt = Date.now();
    return current;
  };
  return (maxAgeMs = RECHECK_MS) => {
    if (Date.now() - checkedAt < maxAgeMs) return Promise.resolve(current);
    return (pending ??= refresh().finally(() => (pending = undefined)));
  };
}
