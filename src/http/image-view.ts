import type { z } from '@hono/zod-openapi';
import type { ImageRecord } from '../lifecycle/images.js';
import { originalInfo } from '../processing/original-metadata.js';
import type { VariantLink } from './delivery.js';
import type { Image } from './schemas.js';

export type ImageView = z.infer<typeof Image>;

/**
 * What the API says of one image, from its original and its manifest. No manifest for these bytes
 * means the work has not started yet: `pending`.
 */
export async function toImageView({ id, original, manifest: current }: ImageRecord, link: VariantLink): Promise<ImageView> {
  const described = current?.original ?? originalInfo(original);
  return {
    id,
    status: current?.status ?? 'pending',
    ...(current?.error ? { error: current.error } : {}),
    original: described,
    variants:
      current?.status === 'done'
        ? await Promise.all(
            current.variants.map(async (variant) => {
              const { name, format, width, height, bytes } = variant;
              return { name, format, width, height, bytes, url: await link(current, variant) };
            }),
          )
        : [],
    ...(current?.status === 'done' && current.placeholder ? { placeholder: current.placeholder } : {}),
    createdAt: current?.createdAt ?? original.lastModified.toISOString(),
    ...(current?.completedAt ? { completedAt: current.completedAt } : {}),
  };
}
