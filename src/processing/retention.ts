import type { ObjectStore } from '../storage/object-store.js';
import { idFromOriginalKey, ORIGINALS_PREFIX } from './keys.js';
import { removeOutputs } from './processor.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * RETENTION_DAYS, locally (S3 lifecycle rules do it on AWS): removes every image whose original is
 * older than the retention, the original first, then its outputs. Returns the ids removed.
 */
export async function sweepExpired(input: ObjectStore, output: ObjectStore, retentionDays: number, now: Date): Promise<string[]> {
  if (retentionDays <= 0) return [];
  const cutoff = now.getTime() - retentionDays * DAY_MS;
  const removed: string[] = [];
  for await (const object of input.list(ORIGINALS_PREFIX)) {
    const id = idFromOriginalKey(object.key);
    if (!id || object.lastModified.getTime() >= cutoff) continue;
    await input.delete(object.key);
    await removeOutputs(output, id);
    removed.push(id);
  }
  return removed;
}
