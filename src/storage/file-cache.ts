import { readFile, stat } from './quick-fs.js';

/** Reads small files through a memory cache that a changed file (another inode, size or mtime) misses. */
export interface FileCache {
  /** The file's bytes, or undefined when there is no such file. The buffer is shared: never modify it. */
  read(path: string): Promise<Buffer | undefined>;
  forget(path: string): void;
}

interface Entry {
  ino: number;
  size: number;
  mtimeMs: number;
  data: Buffer;
}

/**
 * Status polls and listings read the same sidecars and manifests over and over; a stat costs a
 * fifth of a read (one call instead of open, fstat, read and close). Files over
 * `maxFileBytes` are read but not kept; past `maxBytes` in all the least recently used go.
 */
export function createFileCache(maxBytes = 16 * 1024 * 1024, maxFileBytes = 64 * 1024): FileCache {
  const entries = new Map<string, Entry>();
  let bytes = 0;
  const drop = (path: string) => {
    const entry = entries.get(path);
    if (!entry) return;
    entries.delete(path);
    bytes -= entry.data.length;
  };
  return {
    async read(path) {
      const stats = await orAbsent(stat(path));
      if (!stats?.isFile()) return undefined;
      const cached = entries.get(path);
      if (cached && cached.ino === stats.ino && cached.size === stats.size && cached.mtimeMs === stats.mtimeMs) {
        // Map keeps insertion order: re-inserted, it is the most recently used.
        entries.delete(path);
        entries.set(path, cached);
        return cached.data;
      }
      drop(path);
      const data = await orAbsent(readFile(path));
      if (!data) return undefined;
      // Kept under the stats seen before the read: if the file changed in between, the next stat misses.
      if (data.length <= maxFileBytes) {
        drop(path);
        entries.set(path, { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, data });
        bytes += data.length;
        while (bytes > maxBytes) drop(entries.keys().next().value!);
      }
      return data;
    },
    forget: drop,
  };
}

/** The result, or undefined when the file (or a folder on its path) is not there. */
async function orAbsent<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (error) {
    if (isAbsent(error)) return undefined;
    throw error;
  }
}

const isAbsent = (error: unknown) => ['ENOENT', 'ENOTDIR', 'EISDIR'].includes((error as NodeJS.ErrnoException)?.code ?? '');
