import { inParallel } from '../processing/in-parallel.js';
import { indexImage } from '../processing/image-index.js';
import { idFromOriginalKey, INDEX_READY, ORIGINALS_PREFIX, pendingKey } from '../processing/keys.js';
import { isFinal, readManifest } from '../processing/manifest.js';
import type { Log } from '../logging.js';
import type { ObjectStore } from '../storage/object-store.js';


export const isIndexed = async (input: ObjectStore) => (await input.head(INDEX_READY)) !== undefined;

/**
 * For buckets written before the index: lists every original in it, and marks pending those without
 * a final manifest for their bytes, so that start-up recovery (which reads only markers) finds
 * them. Each step only makes sure, so a run cut short is simply run again. Returns how many it read.
 */
export async function reindex(input: ObjectStore, output: ObjectStore, { concurrency = 16, onProgress }: { concurrency?: number; onProgress?: (done: number) => void } = {}): Promise<number> {
  let done = 0;
  await inParallel(input.list(ORIGINALS_PREFIX), concurrency, async ({ key }) => {
    const id = idFromOriginalKey(key);
    const original = id && (await input.head(key));
    if (!id || !original) return;
    const manifest = await readManifest(output, id);
    await Promise.all([
      indexImage(input, id, original),
      ...(manifest && isFinal(manifest.status) && manifest.sourceEtag === original.etag ? [] : [input.put(pendingKey(id), Buffer.alloc(0))]),
    ]);
    done++;
    onProgress?.(done);
  });
  await input.put(INDEX_READY, Buffer.from(JSON.stringify({ indexedAt: new Date().toISOString(), images: done })), { contentType: 'application/json' });
  return done;
}

/** At start-up: a store that has no index yet (written by an earlier release) is indexed, once. */
export async function indexOnce(input: ObjectStore, output: ObjectStore, logger: Pick<Log, 'info'>): Promise<void> {
  if (await isIndexed(input)) return;
  for await (const _ of input.list(ORIGINALS_PREFIX, { limit: 1 })) {
    logger.info({}, 'indexing the images of a store written before the index (once; about a minute per 100,000): listings are complete when it ends');
  }
  const started = Date.now();
  const images = await reindex(input, output);
  if (images > 0) logger.info({ images, ms: Date.now() - started }, 'indexed the images of an earlier release');
}
