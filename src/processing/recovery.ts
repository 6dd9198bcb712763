import type { ObjectStore } from '../storage/object-store.js';
import { idFromOriginalKey, ORIGINALS_PREFIX } from './keys.js';
import { isFinal, readManifest } from './manifest.js';

/**
 * Every original without a final manifest for its current bytes: what a crash, a stop, or another
 * tool writing into the input folder left for the processor. Oldest first.
 */
export async function findUnfinished(input: ObjectStore, output: ObjectStore): Promise<string[]> {
  const originals = [];
  for await (const object of input.list(ORIGINALS_PREFIX)) originals.push(object);
  originals.sort((a, b) => a.lastModified.getTime() - b.lastModified.getTime());
  const unfinished: string[] = [];
  for (const object of originals) {
    const id = idFromOriginalKey(object.key);
    if (!id) continue;
    const manifest = await readManifest(output, id);
    if (manifest && isFinal(manifest.status) && manifest.sourceEtag === (await input.head(object.key))?.etag) continue;
    unfinished.push(id);
  }
  return unfinished;
}
