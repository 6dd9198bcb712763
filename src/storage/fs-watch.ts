import { watch, type FSWatcher } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Calls `onFile` with the name of each file that appears (or is replaced) in `folder`, once it has
 * stopped changing for `settleMs`: another tool copying a large file in is heard once it is whole,
 * not at its first byte. Hidden names are skipped. Locally this is what S3's object-created event is
 * on AWS for files no API call wrote. Returns a function that stops watching.
 */
export async function watchNewFiles(folder: string, settleMs: number, onFile: (name: string) => void): Promise<() => void> {
  await mkdir(folder, { recursive: true });
  const timers = new Map<string, NodeJS.Timeout>();
  const settled = (name: string) => {
    timers.delete(name);
    stat(join(folder, name)).then(
      (stats) => stats.isFile() && onFile(name),
      () => undefined, // gone again (a temporary file, or deleted): nothing to do
    );
  };
  const watcher: FSWatcher = watch(folder, { persistent: false }, (_event, name) => {
    if (!name || name.startsWith('.')) return;
    clearTimeout(timers.get(name));
    timers.set(name, setTimeout(() => settled(name), settleMs));
  });
  // A watcher error (the folder removed under it) ends watching; recovery at the next start covers the rest.
  watcher.on('error', () => watcher.close());
  return () => {
    watcher.close();
    for (const timer of timers.values()) clearTimeout(timer);
    timers.clear();
  };
}
