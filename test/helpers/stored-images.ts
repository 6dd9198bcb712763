import { indexImage } from '../../src/processing/image-index.js';
import { originalKey } from '../../src/processing/keys.js';
import { writeManifest } from '../../src/processing/manifest.js';
import { toObjectMetadata } from '../../src/processing/original-metadata.js';
import type { ObjectStore } from '../../src/storage/object-store.js';

export interface StoredImage {
  id: string;
  owner?: string;
  /** Upload time, ms. */
  uploadedAt: number;
  /** Without a manifest: uploaded, not yet processed. */
  done?: boolean;
}

/**
 * An image as an upload and its processing leave it, written straight through the storage port (no
 * rendering): the original with its metadata, its index entries, a done manifest with one variant.
 */
export async function storeImage(input: ObjectStore, output: ObjectStore, { id, owner, uploadedAt, done = true }: StoredImage): Promise<void> {
  const bytes = Buffer.from(`original of ${id}`);
  const original = await input.put(originalKey(id), bytes, {
    contentType: 'image/jpeg',
    metadata: toObjectMetadata({ filename: `${id}.jpg`, format: 'jpeg', width: 640, height: 480, uploadedAt, ...(owner ? { owner } : {}) }),
  });
  await indexImage(input, id, original);
  if (!done) return;
  await writeManifest(output, {
    id,
    status: 'done',
    original: { bytes: bytes.length, format: 'jpeg', width: 640, height: 480, filename: `${id}.jpg` },
    variants: [{ name: 'thumbnail', format: 'webp', width: 150, height: 113, bytes: 100, key: `${id}/thumbnail.webp` }],
    watermark: false,
    createdAt: new Date(uploadedAt).toISOString(),
    completedAt: new Date(uploadedAt + 1000).toISOString(),
    sourceEtag: original.etag,
  });
}
