import type { ObjectStore } from '../storage/object-store.js';
import { idFromOriginalKey, originalKey, ORIGINALS_PREFIX, PENDING_PREFIX, pendingKey } from './keys.js';
import { isFinal, readManifest } from './manifest.js';

/** How long a marker may stand without its original before it is taken for an upload cut short. */
const MARKER_AHEAD_MS = 60 * 60 * 1000;

const isYoung = async (input: ObjectStore, key: string) => {
  const marker = await input.head(key);
  return marker !== undefined && Date.now() - marker.lastModified.getTime() < MARKER_AHEAD_MS;
};

/**
 * What a crash, a stop, or another tool left for the processor, found without reading every image:
 * the images marked pending (their work started, or was asked for, and never ended) and, by names
 * alone, the originals with no outputs at all (dropped into `originals/` while the server was down);
 * `byName: false` when the caller knows nothing was dropped.
 */
export async function findUnfinished(input: ObjectStore, output: ObjectStore, { byName = true }: { byName?: boolean } = {}): Promise<string[]> {
  const unfinished = new Set<string>();
  for await (const name of input.names(PENDING_PREFIX)) {
    if (name.endsWith('/')) continue;
    const original = await input.head(originalKey(name));
    // An upload writes its marker just before its original: a young marker may be ahead of it.
    if (!original && (await isYoung(input, pendingKey(name)))) continue;
    const manifest = original && (await readManifest(output, name));
    if (original && !(manifest && isFinal(manifest.status) && manifest.sourceEtag === original.etag)) unfinished.add(name);
    // Finished (the marker outlived a crash), or deleted since.
    else await input.delete(pendingKey(name));
  }
  if (!byName) return [...unfinished];
  // The processor marks an image before it writes anything for it: outputs without a marker are finished work.
  const started = new Set<string>();
  for await (const name of output.names('')) if (name.endsWith('/')) started.add(name.slice(0, -1));
  for await (const name of input.names(ORIGINALS_PREFIX)) {
    const id = idFromOriginalKey(ORIGINALS_PREFIX + name);
    if (id && !started.has(id)) unfinished.add(id);
  }
  return [...unfinished];
}
