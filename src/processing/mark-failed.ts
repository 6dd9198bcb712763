import type { ObjectStore } from '../storage/object-store.js';
import { manifestKey, originalKey, pendingKey } from './keys.js';
import { isFinal, readManifest, writeManifest, type Manifest } from './manifest.js';
import { fromObjectMetadata, originalInfo, uploadTime } from './original-metadata.js';

export interface MarkFailedDeps {
  input: ObjectStore;
  output: ObjectStore;
  /** Whether variants are watermarked when the upload did not say (WATERMARK_TEXT is set). */
  watermarkByDefault: boolean;
  now?: () => Date;
}

/**
 * Records a failure that happened outside the imaging work (a storage error, a process killed for
 * memory or time): a `failed` manifest with a code. Nothing is written when the original is gone,
 * or when `keepFinal` is set and this very original already ended `done` or `failed` (a late or
 * repeated failure record). Returns the manifest it wrote.
 */
export async function markFailed(
  { input, output, watermarkByDefault, now = () => new Date() }: MarkFailedDeps,
  id: string,
  error: { code: string; message: string },
  { keepFinal = false } = {},
): Promise<Manifest | undefined> {
  const original = await input.head(originalKey(id));
  if (!original) return undefined;
  const previous = await readManifest(output, id);
  if (keepFinal && previous && isFinal(previous.status) && previous.sourceEtag === original.etag) return undefined;
  const meta = fromObjectMetadata(original.metadata);
  const manifest: Manifest = {
    id,
    status: 'failed',
    error,
    original: originalInfo(original),
    variants: [],
    watermark: meta.watermark ?? watermarkByDefault,
    createdAt: new Date(uploadTime(original)).toISOString(),
    completedAt: now().toISOString(),
    sourceEtag: original.etag,
  };
  await writeManifest(output, manifest);
  // Deleted meanwhile: the manifest must not outlive its image (written first, checked after).
  if (!(await input.head(originalKey(id)))) {
    await output.delete(manifestKey(id));
    return undefined;
  }
  await input.delete(pendingKey(id));
  return manifest;
}
