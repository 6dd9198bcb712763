import { closeSync, fstatSync, fsync as fsyncCallback, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeSync, type MakeDirectoryOptions, type Stats } from 'node:fs';
import { readFile as readFileInPool, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/**
 * The file-system calls of the fs store and the upload path, made on the main thread where they only
 * touch metadata or a little of the page cache. A trip to libuv's thread pool costs about 40 µs of
 * CPU on a 2-core VM (a thread woken and switched to, and back), against about 5 µs for the call
 * itself; a 0.3 MP photo makes about a hundred of them, and the main thread, not the cores, was what
 * a busy server ran out of. What waits on the disk (fsync), moves many bytes (reads and writes over
 * IN_LINE_BYTES) or may list a great many names (readdir: an index folder of a million entries)
 * still goes to the pool, so no call here holds the event loop for more than a page-cache copy of
 * IN_LINE_BYTES.
 *
 * Each returns a promise, as the `node:fs/promises` call it replaces: callers keep their shape, and
 * a failure is a rejection (ENOENT and the rest), never a throw.
 */

/** Reads and writes up to this size are copied to or from the page cache in line. */
const IN_LINE_BYTES = 256 * 1024;

const inLine = <T>(call: () => T): Promise<T> => {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error as Error);
  }
};

export const fsyncFd = promisify(fsyncCallback);

export const stat = (path: string): Promise<Stats> => inLine(() => statSync(path));
export const rename = (from: string, to: string): Promise<void> => inLine(() => renameSync(from, to));
export const mkdir = (path: string, options?: MakeDirectoryOptions): Promise<string | undefined> => inLine(() => mkdirSync(path, options));
/** Removes a file (never a folder's contents: that may be many calls). */
export const rm = (path: string, options?: { force?: boolean }): Promise<void> => inLine(() => rmSync(path, options));
export const rmdir = (path: string): Promise<void> => inLine(() => rmdirSync(path));

/**
 * A file's bytes: in line when it is small, in the pool otherwise. Its size is the open file's own
 * (not an earlier stat's), so a larger file renamed over it in between is never read in line.
 */
export async function readFile(path: string): Promise<Buffer> {
  const small = await inLine(() => {
    const fd = openSync(path, 'r');
    try {
      return fstatSync(fd).size <= IN_LINE_BYTES ? readFileSync(fd) : undefined;
    } finally {
      closeSync(fd);
    }
  });
  return small ?? readFileInPool(path);
}

/** Creates `path` (never overwriting: `wx`) with `data`; `synced`: fsync'd before it is closed. */
export async function createFile(path: string, data: Buffer | string, synced: boolean): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  if (bytes.length > IN_LINE_BYTES) {
    await writeFile(path, bytes, { flag: 'wx', flush: synced });
    return;
  }
  const fd = await inLine(() => openSync(path, 'wx'));
  try {
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
    if (synced) await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** Creates an empty file, or truncates the one there. */
export const touch = (path: string): Promise<void> => inLine(() => closeSync(openSync(path, 'w')));
