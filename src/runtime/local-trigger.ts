import type { Logger } from 'pino';
import { idFromOriginalKey, ORIGINALS_PREFIX } from '../processing/keys.js';
import type { WorkQueue } from '../processing/work-queue.js';
import type { Buckets } from '../storage/backends.js';
import { watchNewFiles } from '../storage/fs-watch.js';
import { recentIds } from './recent-ids.js';

/** How long a dropped file must stay unchanged before it is processed. */
const DROPPED_FILE_SETTLE_MS = 300;
/** The watcher hears a file this store wrote (and announced) within this long after: it is queued already. */
const ANNOUNCED_TTL_MS = 60_000;

/**
 * What starts processing locally (S3's event on AWS): the store's announcement of each original it
 * writes, and, where the originals are a folder, a watcher for files other tools drop there (a
 * file system that cannot be watched leaves those to the next start). Resolves with a function that stops watching.
 */
export async function startLocalTrigger(buckets: Buckets, queue: WorkQueue, logger: Logger): Promise<() => void> {
  const announced = recentIds(ANNOUNCED_TTL_MS);
  const stopListening = buckets.input.onObjectCreated((key) => {
    const id = idFromOriginalKey(key);
    if (!id) return;
    announced.add(id);
    queue.enqueue(id);
  });
  const stopWatching = !buckets.inputFolder
    ? undefined
    : await watchNewFiles(buckets.inputFolder(ORIGINALS_PREFIX), DROPPED_FILE_SETTLE_MS, (name) => {
        const id = idFromOriginalKey(ORIGINALS_PREFIX + name);
        if (id && !announced.has(id)) queue.enqueue(id);
      }).catch((error: unknown) => {
        logger.warn({ err: error }, 'cannot watch the input folder: files dropped there are processed at the next start');
        return undefined;
      });
  return () => {
    stopListening();
    stopWatching?.();
  };
}
