import { ALL_IMAGES, entryName, parseEntry } from '../processing/image-index.js';
import { originalKey } from '../processing/keys.js';
import { uploadTime } from '../processing/original-metadata.js';
import type { ObjectStore } from '../storage/object-store.js';
import { removeImage } from './images.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * RETENTION_DAYS, locally (S3 lifecycle rules do it on AWS): removes every image uploaded before the
 * retention, as a delete does (original, outputs, records). The index sorts newest first, so the
 * listing starts at the cutoff and reads only what expires. Returns the ids removed.
 */
export async function sweepExpired(input: ObjectStore, output: ObjectStore, retentionDays: number, now: Date): Promise<string[]> {
  if (retentionDays <= 0) return [];
  const cutoff = now.getTime() - retentionDays * DAY_MS;
  const removed: string[] = [];
  for await (const object of input.list(ALL_IMAGES, { startAfter: ALL_IMAGES + entryName(cutoff, '') })) {
    const entry = parseEntry(ALL_IMAGES, object.key);
    if (!entry || entry.time >= cutoff) continue;
    const original = await input.head(originalKey(entry.id));
    if (original && uploadTime(original) === entry.time) {
      await removeImage(input, output, entry.id, original);
      removed.push(entry.id);
    } else {
      // Its image is gone, or is listed at another time: only the entry goes.
      await input.delete(object.key);
    }
  }
  return removed;
}
