import { idFromOriginalKey, ORIGINALS_PREFIX } from '../processing/keys.js';
import type { ObjectStore } from '../storage/object-store.js';
import { removeImage } from './images.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * RETENTION_DAYS, locally (S3 lifecycle rules do it on AWS): removes every image whose original is
 * older than the retention, as a delete does (original, outputs, records). Returns the ids removed.
 */
export async function sweepExpired(input: ObjectStore, output: ObjectStore, retentionDays: number, now: Date): Promise<string[]> {
  if (retentionDays <= 0) return [];
  const cutoff = now.getTime() - retentionDays * DAY_MS;
  const removed: string[] = [];
  for await (const object of input.list(ORIGINALS_PREFIX)) {
    const id = idFromOriginalKey(object.key);
    if (!id || object.lastModified.getTime() >= cutoff) continue;
    const original = await input.head(object.key);
    if (!original) continue;
    await removeImage(input, output, id, original);
    removed.push(id);
  }
  return removed;
}
