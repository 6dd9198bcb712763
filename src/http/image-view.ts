import type { z } from '@hono/zod-openapi';
import type { ImageRecord } from '../lifecycle/images.js';
import type { Manifest } from '../processing/manifest.js';
import { originalInfo, uploadTime } from '../processing/original-metadata.js';
import type { ImageLinks } from './download-links.js';
import type { Image, WebhookEvent } from './schemas.js';

export type ImageView = z.infer<typeof Image>;

/**
 * What the API says of one image, from its original and its manifest. No manifest for these bytes
 * means the work has not ended: `processing` where this process is at it (`isProcessing`, locally),
 * else `pending`.
 */
export async function toImageView(record: ImageRecord, links: ImageLinks, isProcessing?: (id: string) => boolean): Promise<ImageView> {
  if (!record.manifest) {
    // A record without a manifest always carries its original (see ImageRecord).
    const { id } = record;
    const original = originalInfo(record.original!);
    const originalUrl = await links.original(id, original);
    const status = isProcessing?.(id) ? 'processing' : 'pending';
    return { id, status, original, originalUrl, variants: [], createdAt: new Date(uploadTime(record.original!)).toISOString() };
  }
  const { manifest } = record;
  const view = describe(manifest);
  const variants = view.variants.length > 0 ? await Promise.all(manifest.variants.map(async (variant, i) => ({ ...view.variants[i]!, url: await links.variant(manifest, variant) }))) : [];
  return { ...view, originalUrl: await links.original(manifest.id, manifest.original), variants };
}

/** The webhook body for an image that reached `done` or `failed`: the API's own shape, without links. */
export function webhookEvent(manifest: Manifest): z.infer<typeof WebhookEvent> {
  const status = manifest.status === 'done' ? 'done' : 'failed';
  return { event: `image.${status}`, image: { ...describe(manifest), status } };
}

/** The public part of a manifest: never its storage keys, source ETag or fingerprint. */
function describe(manifest: Manifest) {
  const done = manifest.status === 'done';
  return {
    id: manifest.id,
    status: manifest.status,
    ...(manifest.error ? { error: manifest.error } : {}),
    original: manifest.original,
    variants: done ? manifest.variants.map(({ name, format, width, height, bytes }) => ({ name, format, width, height, bytes })) : [],
    ...(done && manifest.placeholder ? { placeholder: manifest.placeholder } : {}),
    createdAt: manifest.createdAt,
    ...(manifest.completedAt ? { completedAt: manifest.completedAt } : {}),
  };
}
