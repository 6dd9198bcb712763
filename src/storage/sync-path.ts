import { closeSync, openSync } from 'node:fs';
import { fsyncFd } from './quick-fs.js';

/**
 * fsyncs a file's bytes, or a folder's entries (what a rename or a new file put in it). Opened and
 * closed in line (quick-fs.ts says why); only the fsync, which waits on the disk, goes to the pool.
 */
export async function syncPath(path: string): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}
