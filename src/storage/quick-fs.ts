import { closeSync, fsync as fsyncCallback, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmdirSync, rmSync, statSync, writeSync, type Dirent, type MakeDirectoryOptions, type RmOptions, type Stats } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/**
 * The file-system calls of the fs store and the upload path, made on the main thread where they only
 * touch metadata or a little of the page cache. A trip to libuv's thread pool costs about 40 µs of
 * CPU on a 2-core VM (a thread woken and switched to, and back), against about 5 µs for the call
 * itself; a 0.3 MP photo makes about a hundred of them, and the main thread, not the cores, was what
 * a busy server ran out of. What waits on the disk (fsync) or moves many bytes (reads and writes over
 * IN_LINE_BYTES) still goes to the pool, so no call here holds the event loop for more than a
 * page-cache copy of IN_LINE_BYTES.
 *
 * Each returns a promise, as the `node:fs/promises` call it replaces: callers keep their shape, and
 * a failure is a rejection (ENOENT and the rest), never a throw.
 */

/** Reads and writes up to this size are copied to or from the page cache in line. */
export const IN_LINE_BYTES = 256 * 1024;

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
export const rm = (path: string, options?: RmOptions): Promise<void> => inLine(() => rmSync(path, options));
export const rmdir = (path: string): Promise<void> => inLine(() => rmdirSync(path));
export const readdir = (path: string): Promise<Dirent[]> => inLine(() => readdirSync(path, { withFileTypes: true }));

/** A file whose size is known: read in line when small, in the pool otherwise. */
export const readKnownSize = (path: string, size: number): Promise<Buffer> => (size <= IN_LINE_BYTES ? inLine(() => readFileSync(path)) : readFile(path));

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

/** Up to `length` bytes of a file from `offset` (a header to probe). */
export async function readAt(path: string, offset: number, length: number): Promise<Buffer> {
  if (length > IN_LINE_BYTES) {
    const file = await open(path, 'r');
    try {
      const { buffer, bytesRead } = await file.read(Buffer.alloc(length), 0, length, offset);
      return buffer.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  }
  return inLine(() => {
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(length);
      let read = 0;
      for (let n = -1; n !== 0 && read < length; read += n) n = readSync(fd, buffer, read, length - read, offset + read);
      return buffer.subarray(0, read);
    } finally {
      closeSync(fd);
    }
  });
}
